import { cookies, headers } from 'next/headers';
import {
  dictFor,
  isLang,
  LANG_COOKIE,
  langFromAcceptLanguage,
  type Dict,
  type Lang,
} from './index';

/** The request's language: the `lang` cookie, else Accept-Language, else English. */
export async function getLang(): Promise<Lang> {
  const cookie = (await cookies()).get(LANG_COOKIE)?.value;
  if (isLang(cookie)) return cookie;
  return langFromAcceptLanguage((await headers()).get('accept-language')) ?? 'en';
}

export async function getI18n(): Promise<{ lang: Lang; t: Dict }> {
  const lang = await getLang();
  return { lang, t: dictFor(lang) };
}
