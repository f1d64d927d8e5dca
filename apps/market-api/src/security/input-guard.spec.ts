import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { inputProblem, MAX_INPUT_DEPTH, requestInputProblem } from './input-guard.js';

describe('inputProblem', () => {
  it('names the first NUL character, in a value or a key, with its path', () => {
    expect(inputProblem({ organization: { name: 'a\u0000b' } }, 'body')).toEqual({
      field: 'body.organization.name',
      reason: 'nul_character',
      message: 'body.organization.name contains a NUL character',
    });
    expect(inputProblem({ list: ['ok', 'x\u0000'] }, 'body')?.field).toBe('body.list.1');
    expect(inputProblem({ ['k\u0000']: 1 }, 'query')?.reason).toBe('nul_character');
    expect(inputProblem({ a: 'fine', b: [1, null, true] }, 'body')).toBeNull();
  });

  it('refuses nesting deeper than the limit without recursing (200,000 levels)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(inputProblem(deep, 'body')?.reason).toBe('too_deep');
    let ok: unknown = 1;
    for (let i = 0; i < MAX_INPUT_DEPTH; i++) ok = { a: ok };
    expect(inputProblem(ok, 'body')).toBeNull();
    expect(inputProblem({ a: ok }, 'body')?.reason).toBe('too_deep');
  });

  it('finds a NUL wherever it is hidden in JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const withNul = { wrap: [v, 'x\u0000y'] };
        expect(inputProblem(withNul, 'body')?.reason).toBe('nul_character');
        const clean = JSON.stringify(v).includes('\\u0000');
        expect(inputProblem(v, 'body') === null).toBe(!clean);
      }),
    );
  });

  it('checks the raw path for an encoded NUL', () => {
    expect(requestInputProblem({ path: '/v1/cri/a%00b' })?.field).toBe('path');
    expect(requestInputProblem({ path: '/v1/cri/a%2500b' })).toBeNull();
  });
});
