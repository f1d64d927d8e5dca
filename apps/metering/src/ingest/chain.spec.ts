import { describe, expect, it } from '@jest/globals';
import { ZERO_HASH } from '@suanli/contracts';
import { checkChain } from './chain.js';

const h = (c: string) => c.repeat(64);

describe('checkChain', () => {
  it('accepts seq 0 with a zero prev as the first batch', () => {
    expect(
      checkChain(
        { lastSeq: null, lastHash: null },
        { seq: 0, prev: ZERO_HASH, hash: h('a') },
        undefined,
      ),
    ).toEqual({
      kind: 'next',
    });
  });

  it('accepts seq = last + 1 whose prev is the last hash', () => {
    expect(
      checkChain(
        { lastSeq: 4, lastHash: h('a') },
        { seq: 5, prev: h('a'), hash: h('b') },
        undefined,
      ),
    ).toEqual({
      kind: 'next',
    });
  });

  it('skips a redelivery of the head or of an older recorded batch', () => {
    expect(
      checkChain(
        { lastSeq: 4, lastHash: h('a') },
        { seq: 4, prev: h('9'), hash: h('a') },
        undefined,
      ).kind,
    ).toBe('duplicate');
    expect(
      checkChain({ lastSeq: 9, lastHash: h('a') }, { seq: 4, prev: h('9'), hash: h('c') }, h('c'))
        .kind,
    ).toBe('duplicate');
  });

  it('reports a reused seq with other content and keeps the head', () => {
    const v = checkChain(
      { lastSeq: 4, lastHash: h('a') },
      { seq: 4, prev: h('9'), hash: h('f') },
      undefined,
    );
    expect(v).toEqual({
      kind: 'gap',
      resync: false,
      detail: 'seq 4 was already used with other content',
    });
    const older = checkChain(
      { lastSeq: 9, lastHash: h('a') },
      { seq: 3, prev: h('9'), hash: h('f') },
      undefined,
    );
    expect(older).toMatchObject({ kind: 'gap', resync: false });
  });

  it('reports a gap ahead or a wrong prev, and resyncs the head there', () => {
    expect(
      checkChain(
        { lastSeq: 4, lastHash: h('a') },
        { seq: 7, prev: h('e'), hash: h('f') },
        undefined,
      ),
    ).toEqual({
      kind: 'gap',
      resync: true,
      detail: 'seq 7 follows 4: 2 batch(es) missing',
    });
    expect(
      checkChain(
        { lastSeq: 4, lastHash: h('a') },
        { seq: 5, prev: h('e'), hash: h('f') },
        undefined,
      ),
    ).toMatchObject({
      kind: 'gap',
      resync: true,
    });
    expect(
      checkChain(
        { lastSeq: null, lastHash: null },
        { seq: 3, prev: h('e'), hash: h('f') },
        undefined,
      ),
    ).toMatchObject({
      kind: 'gap',
      resync: true,
    });
  });
});
