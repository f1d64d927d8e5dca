import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  checkCharacter,
  CriError,
  formatCri,
  formatRegistrant,
  formatSpec,
  handleOf,
  isCri,
  isHandle,
  parseCri,
  parseHandle,
  parseRegistrant,
  parseSpec,
  serialFromNumber,
  serialToNumber,
  type Cri,
  type CriSegment,
} from './index.js';

const VECTORS = [
  'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U',
  'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0',
  'CRI1:86.I05.E0A1B2:C:CN-NM.WLC:GEN-VM:C8.M32:000001:5',
];
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function error(fn: () => unknown): CriError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CriError) return e;
    throw e;
  }
  throw new Error('expected a CriError');
}

function bodyOf(cri: string): string {
  return cri.slice(0, cri.lastIndexOf(':'));
}

describe('test vectors (docs/identifier.md)', () => {
  it.each(VECTORS)('%s parses and round-trips', (v) => {
    const cri = parseCri(v);
    expect(formatCri(cri)).toBe(v);
    expect(checkCharacter(bodyOf(v))).toBe(v.slice(-1));
    expect(isCri(v)).toBe(true);
  });

  it('parses the first vector into its segments', () => {
    expect(parseCri(VECTORS[0] as string)).toEqual({
      registrant: { root: '86', platform: 'R03', entity: 'E00042' },
      industry: 'I',
      location: { country: 'CN', subdivision: 'GZ', site: 'GA1' },
      class: 'AI',
      form: 'CTR',
      spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
      serial: '000137',
      check: 'U',
    });
  });

  it('derives handles', () => {
    expect(handleOf(VECTORS[0] as string)).toBe('86.R03.E00042/000137');
    expect(handleOf(parseCri(VECTORS[1] as string))).toBe('86.N00.E00001/00000A');
    expect(handleOf('86.I05.E0A1B2/000001')).toBe('86.I05.E0A1B2/000001');
  });
});

describe('checkCharacter', () => {
  it('ignores separators and accepts a trailing colon', () => {
    const body = bodyOf(VECTORS[0] as string);
    expect(checkCharacter(`${body}:`)).toBe('U');
    expect(checkCharacter(body.replace(/[:.-]/g, ''))).toBe('U');
  });

  it('rejects characters outside 0-9A-Z', () => {
    expect(error(() => checkCharacter('CRI1:abc')).segment).toBe('check');
  });

  it('makes the ISO/IEC 7064 MOD 37,36 sum come out right', () => {
    // Running the recurrence over data + check character ends with S = 1 (ISO/IEC 7064 hybrid).
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9A-Z]{1,60}$/), (data) => {
        let p = 36;
        let s = 0;
        for (const ch of data + checkCharacter(data)) {
          s = (p + ALPHABET.indexOf(ch)) % 36;
          if (s === 0) s = 36;
          p = (2 * s) % 37;
        }
        expect(s).toBe(1);
      }),
    );
  });

  it('detects every single substitution exhaustively after every state', () => {
    // One leading character reaches each of the 36 states of the recurrence.
    let missed = 0;
    for (const first of ALPHABET) {
      const seen = new Set<string>();
      for (const c of ALPHABET) seen.add(checkCharacter(`${first}${c}ZZ`));
      if (seen.size !== 36) missed++;
    }
    expect(missed).toBe(0);
  });

  it('misses exactly one adjacent transposition per state: 36 of 22 680', () => {
    // ISO/IEC 7064 hybrid systems do not catch every adjacent swap (docs/identifier.md, "The
    // check character"). From state p, swapping the values (18 - p) and (19 - p) (mod 36) is not
    // detected. This test pins the exact exception set.
    const undetected: string[] = [];
    let total = 0;
    for (const first of ALPHABET) {
      for (let a = 0; a < 36; a++) {
        for (let b = a + 1; b < 36; b++) {
          total++;
          const x = `${first}${ALPHABET[a]}${ALPHABET[b]}9`;
          const y = `${first}${ALPHABET[b]}${ALPHABET[a]}9`;
          if (checkCharacter(x) === checkCharacter(y)) undetected.push(`${first}:${a},${b}`);
        }
      }
    }
    expect(total).toBe(22680);
    expect(undetected).toHaveLength(36);
    for (const u of undetected) {
      const [first, pair] = u.split(':') as [string, string];
      const [a, b] = pair.split(',').map(Number) as [number, number];
      const p = stateAfter(first);
      expect([a, b].sort((x, y) => x - y)).toEqual(exceptionPair(p));
    }
  });
});

/** The MOD 37,36 state after `chars` (an independent re-implementation for the tests). */
function stateAfter(chars: string): number {
  let p = 36;
  for (const ch of chars) {
    let s = (p + ALPHABET.indexOf(ch)) % 36;
    if (s === 0) s = 36;
    p = (2 * s) % 37;
  }
  return p;
}

/** The one pair of values whose adjacent swap, from state `p`, leaves the state unchanged. */
function exceptionPair(p: number): [number, number] {
  const a = (((18 - p) % 36) + 36) % 36;
  const b = (a + 1) % 36;
  return a < b ? [a, b] : [b, a];
}

// ---------------------------------------------------------------- generators

const b36 = (n: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[0-9A-Z]{${n}}$`));
const posInt = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
);

const criParts: fc.Arbitrary<Omit<Cri, 'check'>> = fc
  .record({
    registrant: fc.record({
      root: fc.stringMatching(/^\d{2,4}$/),
      platform: fc.tuple(fc.constantFrom('N', 'R', 'I'), b36(2)).map(([a, b]) => a + b),
      entity: b36(5).map((s) => `E${s}`),
    }),
    industry: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRST'.split('')),
    location: fc.record({
      country: fc.stringMatching(/^[A-Z]{2}$/),
      subdivision: fc.stringMatching(/^[0-9A-Z]{1,3}$/),
      site: fc.stringMatching(/^[0-9A-Z]{1,8}$/),
    }),
    class: fc.constantFrom('GEN', 'AI', 'HPC'),
    form: fc.constantFrom('BM', 'VM', 'CTR', 'API', 'JOB'),
    spec: fc
      .record(
        {
          cpu: posInt,
          memGiB: posInt,
          accel: fc.record({ count: posInt, model: fc.stringMatching(/^[0-9A-Z]{1,10}$/) }),
          storageGiB: posInt,
          netGbps: posInt,
        },
        { requiredKeys: [] },
      )
      .filter((s) => Object.keys(s).length > 0),
    serial: b36(6),
  })
  .filter((parts) => {
    // The few combinations of long fields that exceed 128 characters are tested separately.
    try {
      formatCri(parts);
      return true;
    } catch (e) {
      if (e instanceof CriError && e.segment === 'length') return false;
      throw e;
    }
  });

describe('properties', () => {
  it('parse ∘ format = id and format ∘ parse = id', () => {
    fc.assert(
      fc.property(criParts, (parts) => {
        const s = formatCri(parts);
        expect(s.length).toBeLessThanOrEqual(128);
        const parsed = parseCri(s);
        const { check, ...rest } = parsed;
        expect(rest).toEqual(parts);
        expect(check).toBe(s.slice(-1));
        expect(formatCri(parsed)).toBe(s);
        expect(handleOf(s)).toBe(`${formatRegistrant(parts.registrant)}/${parts.serial}`);
      }),
    );
  });

  it('every single-character substitution in the body changes the check', () => {
    fc.assert(
      fc.property(criParts, (parts) => {
        const body = bodyOf(formatCri(parts));
        const check = checkCharacter(body);
        const collisions: string[] = [];
        for (let i = 0; i < body.length; i++) {
          if (!ALPHABET.includes(body.charAt(i))) continue;
          for (const c of ALPHABET) {
            if (c === body.charAt(i)) continue;
            const mutated = body.slice(0, i) + c + body.slice(i + 1);
            if (checkCharacter(mutated) === check) collisions.push(mutated);
          }
        }
        expect(collisions).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('every adjacent transposition in the body changes the check, but for the MOD 37,36 exception', () => {
    fc.assert(
      fc.property(criParts, (parts) => {
        const body = bodyOf(formatCri(parts));
        const check = checkCharacter(body);
        const chars = body.replace(/[:.-]/g, '');
        const unexplained: string[] = [];
        // Adjacent in the character sequence the check runs over (separators stripped), which
        // covers adjacent characters as written too.
        for (let i = 0; i + 1 < chars.length; i++) {
          const a = chars.charAt(i);
          const b = chars.charAt(i + 1);
          if (a === b) continue;
          const swapped = chars.slice(0, i) + b + a + chars.slice(i + 2);
          if (checkCharacter(swapped) !== check) continue;
          const values = [ALPHABET.indexOf(a), ALPHABET.indexOf(b)].sort((x, y) => x - y);
          if (
            JSON.stringify(values) !== JSON.stringify(exceptionPair(stateAfter(chars.slice(0, i))))
          ) {
            unexplained.push(swapped);
          }
        }
        expect(unexplained).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('catches every adjacent transposition of the published test vectors', () => {
    for (const v of VECTORS) {
      const chars = bodyOf(v).replace(/[:.-]/g, '');
      for (let i = 0; i + 1 < chars.length; i++) {
        if (chars[i] === chars[i + 1]) continue;
        const swapped = chars.slice(0, i) + chars[i + 1] + chars[i] + chars.slice(i + 2);
        expect(checkCharacter(swapped)).not.toBe(v.slice(-1));
      }
    }
  });

  it('a wrong check character is rejected naming the expected one', () => {
    fc.assert(
      fc.property(criParts, fc.constantFrom(...ALPHABET.split('')), (parts, c) => {
        const s = formatCri(parts);
        fc.pre(c !== s.slice(-1));
        const e = error(() => parseCri(s.slice(0, -1) + c));
        expect(e.segment).toBe('check');
        expect(e.expected).toBe(s.slice(-1));
        expect(e.code).toBe('check_mismatch');
        expect(e.message).toContain(`expected '${s.slice(-1)}'`);
      }),
    );
  });

  it('accepts only canonical strings: parse either throws CriError or formats back identically', () => {
    const alphabet = fc.constantFrom(...'CRI1:.-0123456789ABEGHIMNRSTUVXZ abz/_'.split(''));
    const mutate = fc
      .tuple(criParts, fc.nat(), fc.nat(), alphabet, fc.constantFrom('replace', 'insert', 'delete'))
      .map(([parts, i, j, ch, op]) => {
        const s = formatCri(parts);
        const at = i % (s.length + 1);
        if (op === 'insert') return s.slice(0, at) + ch + s.slice(at);
        if (op === 'delete') return s.slice(0, at) + s.slice(at + 1);
        const k = j % s.length;
        return s.slice(0, k) + ch + s.slice(k + 1);
      });
    fc.assert(
      fc.property(fc.oneof(mutate, fc.string({ maxLength: 140 })), (input) => {
        let parsed: Cri;
        try {
          parsed = parseCri(input);
        } catch (e) {
          expect(e).toBeInstanceOf(CriError);
          return;
        }
        expect(formatCri(parsed)).toBe(input);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects integers beyond 2^53 in the spec', () => {
    expect(formatSpec({ cpu: Number.MAX_SAFE_INTEGER })).toBe('C9007199254740991');
    expect(parseSpec('C9007199254740991')).toEqual({ cpu: Number.MAX_SAFE_INTEGER });
    expect(error(() => parseSpec('C9007199254740993')).segment).toBe('spec');
    expect(error(() => parseSpec('C12345678901234567')).segment).toBe('spec');
  });

  it('serialFromNumber and serialToNumber are inverse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 36 ** 6 - 1 }), (n) => {
        const s = serialFromNumber(n);
        expect(s).toMatch(/^[0-9A-Z]{6}$/);
        expect(serialToNumber(s)).toBe(n);
      }),
    );
  });
});

describe('parseCri rejects, naming the segment', () => {
  const good = VECTORS[0] as string;
  const cases: [string, string, CriSegment][] = [
    ['lower-case scheme', good.replace('CRI1', 'cri1'), 'scheme'],
    ['other version', good.replace('CRI1', 'CRI2'), 'scheme'],
    ['empty', '', 'scheme'],
    ['leading space', ` ${good}`, 'scheme'],
    ['root too short', good.replace('86.R03', '8.R03'), 'registrant'],
    ['root too long', good.replace('86.R03', '86000.R03'), 'registrant'],
    ['bad platform letter', good.replace('R03', 'X03'), 'registrant'],
    ['lower-case platform', good.replace('R03', 'r03'), 'registrant'],
    ['short entity', good.replace('E00042', 'E0042'), 'registrant'],
    ['entity without E', good.replace('E00042', 'F00042'), 'registrant'],
    ['missing entity', good.replace('86.R03.E00042', '86.R03'), 'registrant'],
    ['industry U', good.replace(':I:', ':U:'), 'industry'],
    ['industry lower-case', good.replace(':I:', ':i:'), 'industry'],
    ['industry two letters', good.replace(':I:', ':IJ:'), 'industry'],
    ['country of 3', good.replace('CN-GZ', 'CHN-GZ'), 'location'],
    ['lower-case subdivision', good.replace('CN-GZ', 'CN-gz'), 'location'],
    ['subdivision of 4', good.replace('CN-GZ', 'CN-GZAB'), 'location'],
    ['site of 9', good.replace('GA1', 'GA1234567'), 'location'],
    ['no site', good.replace('CN-GZ.GA1', 'CN-GZ'), 'location'],
    ['unknown class', good.replace('AI-CTR', 'QC-CTR'), 'class'],
    ['lower-case class', good.replace('AI-CTR', 'ai-CTR'), 'class'],
    ['unknown form', good.replace('AI-CTR', 'AI-PM'), 'form'],
    ['no form', good.replace('AI-CTR', 'AI'), 'form'],
    ['spec out of order', good.replace('C96.M1536', 'M1536.C96'), 'spec'],
    ['spec repeated', good.replace('C96.M1536', 'C96.C96'), 'spec'],
    ['spec leading zero', good.replace('C96', 'C096'), 'spec'],
    ['spec zero', good.replace('C96', 'C0'), 'spec'],
    ['spec lower-case model', good.replace('H200', 'h200'), 'spec'],
    ['spec unknown token', good.replace('C96', 'X96'), 'spec'],
    ['spec empty', good.replace('C96.M1536.G8-H200', ''), 'spec'],
    ['spec empty token', good.replace('C96.M1536', 'C96..M1536'), 'spec'],
    ['spec G without model', good.replace('G8-H200', 'G8'), 'spec'],
    ['spec space', good.replace('C96', 'C 96'), 'spec'],
    ['serial of 5', good.replace('000137', '00137'), 'serial'],
    ['lower-case serial', good.replace(':000137:', ':00013a:'), 'serial'],
    ['check missing', bodyOf(good), 'check'],
    ['check empty', `${bodyOf(good)}:`, 'check'],
    ['check of 2', `${good}U`, 'check'],
    ['check lower-case', `${bodyOf(good)}:u`, 'check'],
    ['trailing segment', `${good}:X`, 'check'],
    ['too long', `${good}${'X'.repeat(128)}`, 'length'],
  ];

  it.each(cases)('%s', (_name, input, segment) => {
    const e = error(() => parseCri(input));
    expect(e.segment).toBe(segment);
    expect(e.message).toContain(segment);
    expect(isCri(input)).toBe(false);
  });

  it('names the expected check character', () => {
    const e = error(() => parseCri(`${bodyOf(good)}:V`));
    expect(e.expected).toBe('U');
    expect(e.message).toBe("CRI check: check character is 'V', expected 'U'");
    expect(error(() => parseCri(`${bodyOf(good)}:u`)).expected).toBe('U');
  });

  it('rejects non-strings', () => {
    expect(error(() => parseCri(42 as unknown as string)).segment).toBe('scheme');
    expect(isCri(null)).toBe(false);
  });
});

describe('formatCri', () => {
  const parts = (): Omit<Cri, 'check'> => {
    const { check: _check, ...rest } = parseCri(VECTORS[0] as string);
    return rest;
  };

  it('ignores a stale check and orders the spec', () => {
    const p = { ...parts(), check: 'Z' } as Cri;
    expect(formatCri(p)).toBe(VECTORS[0]);
    expect(
      formatCri({
        ...parts(),
        spec: { accel: { model: 'H200', count: 8 }, memGiB: 1536, cpu: 96 },
      }),
    ).toBe(VECTORS[0]);
  });

  it.each<[string, (p: Omit<Cri, 'check'>) => unknown, CriSegment]>([
    ['root', (p) => (p.registrant = { ...p.registrant, root: '8' }), 'registrant'],
    ['industry', (p) => (p.industry = 'Z'), 'industry'],
    ['country', (p) => (p.location = { ...p.location, country: 'cn' }), 'location'],
    ['class', (p) => (p.class = 'QPU' as never), 'class'],
    ['form', (p) => (p.form = 'SaaS' as never), 'form'],
    ['empty spec', (p) => (p.spec = {}), 'spec'],
    ['fractional cpu', (p) => (p.spec = { cpu: 1.5 }), 'spec'],
    ['zero memory', (p) => (p.spec = { memGiB: 0 }), 'spec'],
    ['model with dash', (p) => (p.spec = { accel: { count: 1, model: 'H-200' } }), 'spec'],
    ['serial', (p) => (p.serial = '137'), 'serial'],
    ['too long', (p) => (p.spec = { ...p.spec, storageGiB: 1e14, netGbps: 1e14 }), 'length'],
  ])('rejects a bad %s', (_name, mutate, segment) => {
    const p = parts();
    mutate(p);
    if (segment === 'length') {
      p.location = { country: 'CN', subdivision: 'ABC', site: 'ABCDEFGH' };
      p.spec = {
        cpu: 999999999999999,
        memGiB: 999999999999999,
        accel: { count: 999999999999999, model: 'ABCDEFGHIJKLMNOP' },
        storageGiB: 999999999999999,
        netGbps: 999999999999999,
      };
      p.registrant = { ...p.registrant, root: '8600' };
    }
    expect(error(() => formatCri(p)).segment).toBe(segment);
  });
});

describe('registrant, spec, serial, handle helpers', () => {
  it('formats and parses registrants', () => {
    expect(formatRegistrant({ root: '86', platform: 'N00', entity: 'E00001' })).toBe(
      '86.N00.E00001',
    );
    expect(parseRegistrant('86.R03.E00042')).toEqual({
      root: '86',
      platform: 'R03',
      entity: 'E00042',
    });
    expect(error(() => parseRegistrant('86.R03')).segment).toBe('registrant');
    expect(error(() => parseRegistrant('86.R03.E00042.X')).segment).toBe('registrant');
  });

  it('formats and parses specs', () => {
    expect(formatSpec({ cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } })).toBe(
      'C96.M1536.G8-H200',
    );
    expect(formatSpec({ netGbps: 100, storageGiB: 2048 })).toBe('S2048.N100');
    expect(parseSpec('G1-910B.N25')).toEqual({ accel: { count: 1, model: '910B' }, netGbps: 25 });
    expect(error(() => parseSpec('N25.S1')).segment).toBe('spec');
    expect(error(() => formatSpec({})).segment).toBe('spec');
  });

  it('converts serials', () => {
    expect(serialFromNumber(0)).toBe('000000');
    expect(serialFromNumber(137)).toBe('00003T');
    expect(serialFromNumber(10)).toBe('00000A');
    expect(serialFromNumber(36 ** 6 - 1)).toBe('ZZZZZZ');
    expect(serialToNumber('000137')).toBe(1 * 36 ** 2 + 3 * 36 + 7);
    for (const bad of [-1, 36 ** 6, 1.5, Number.NaN]) {
      expect(error(() => serialFromNumber(bad)).segment).toBe('serial');
    }
    for (const bad of ['00003t', '3T', '0000000', '']) {
      expect(error(() => serialToNumber(bad)).segment).toBe('serial');
    }
  });

  it('parses handles', () => {
    expect(parseHandle('86.R03.E00042/000137')).toEqual({
      registrant: { root: '86', platform: 'R03', entity: 'E00042' },
      serial: '000137',
    });
    expect(isHandle('86.R03.E00042/000137')).toBe(true);
    for (const bad of ['86.R03.E00042', '86.R03.E00042/00013', '86.R03.E00042/000137/1', '']) {
      expect(isHandle(bad)).toBe(false);
    }
    expect(error(() => parseHandle('86.R03.E00042/00013')).segment).toBe('serial');
    expect(error(() => handleOf('CRI1:nope')).segment).toBe('registrant');
    expect(error(() => parseCri('CRI1:86.R03.E00042')).segment).toBe('industry');
  });
});
