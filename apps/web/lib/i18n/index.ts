import type { Lang } from '../format';
import { en, type Dict } from './en';
import { zh } from './zh';

export type { Dict, Lang };

export const LANGS: readonly Lang[] = ['zh', 'en'];
export const LANG_COOKIE = 'lang';
export const HTML_LANG: Record<Lang, string> = { zh: 'zh-CN', en: 'en' };

const DICTS: Record<Lang, Dict> = { zh, en };

export function isLang(value: unknown): value is Lang {
  return value === 'zh' || value === 'en';
}

export function dictFor(lang: Lang): Dict {
  return DICTS[lang];
}

/** Picks zh or en from an Accept-Language header (first supported language wins). */
export function langFromAcceptLanguage(header: string | null): Lang | null {
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((x) => x.tag && !Number.isNaN(x.q) && x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    const primary = tag.split('-')[0];
    if (isLang(primary)) return primary;
  }
  return null;
}
