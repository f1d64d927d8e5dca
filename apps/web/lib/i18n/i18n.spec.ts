import { describe, expect, it } from '@jest/globals';
import { en } from './en';
import { langFromAcceptLanguage } from './index';
import { zh } from './zh';

/** Every key path of a dictionary, with the kind of value (string or function) at its end. */
function shape(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [`${prefix}:string`];
  if (typeof value === 'function') return [`${prefix}:function/${value.length}`];
  return Object.entries(value as Record<string, unknown>)
    .flatMap(([key, v]) => shape(v, prefix ? `${prefix}.${key}` : key))
    .sort();
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(strings);
}

describe('dictionaries', () => {
  it('zh and en have the same keys (records such as units and states included)', () => {
    expect(shape(zh)).toEqual(shape(en));
  });

  it('have no empty strings', () => {
    expect(strings(en).filter((s) => !s.trim())).toEqual([]);
    expect(strings(zh).filter((s) => !s.trim())).toEqual([]);
  });

  it('interpolate', () => {
    expect(en.catalog.count(1)).toBe('1 offer');
    expect(en.catalog.count(3)).toBe('3 offers');
    expect(zh.catalog.count(3)).toBe('共 3 个报价');
    expect(zh.per(zh.units.slot_h)).toBe('每槽位·小时');
  });
});

describe('langFromAcceptLanguage', () => {
  it('picks the best supported language by q-value', () => {
    expect(langFromAcceptLanguage('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh');
    expect(langFromAcceptLanguage('en-US,en;q=0.9')).toBe('en');
    expect(langFromAcceptLanguage('fr-FR,en;q=0.5,zh;q=0.7')).toBe('zh');
    expect(langFromAcceptLanguage('de-DE')).toBeNull();
    expect(langFromAcceptLanguage('zh;q=0,en')).toBe('en');
    expect(langFromAcceptLanguage(null)).toBeNull();
  });
});
