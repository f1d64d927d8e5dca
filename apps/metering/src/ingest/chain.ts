import { ZERO_HASH } from '@suanli/contracts';

/** Where an agent's chain stands: the last accepted seq and the hash of its JWS. */
export interface ChainHead {
  lastSeq: number | null;
  lastHash: string | null;
}

export type ChainVerdict =
  /** The expected next batch: apply it and advance. */
  | { kind: 'next' }
  /** The very batch already accepted (same seq, same JWS): a redelivery, skip it silently. */
  | { kind: 'duplicate' }
  /**
   * A break in the chain, dead-lettered as `chain_gap` with its events. `resync`: the chain head
   * moves to this batch so that the agent's following batches are accepted again (a gap ahead or
   * a wrong `prev`); without it (a seq already used with other content, or older than the head)
   * the head stays where it is.
   */
  | { kind: 'gap'; resync: boolean; detail: string };

/**
 * Checks a batch against its agent's chain.
 * @param knownHash the hash recorded for (agent, seq) when seq is at or below the head, if any.
 */
export function checkChain(
  head: ChainHead,
  batch: { seq: number; prev: string; hash: string },
  knownHash: string | undefined,
): ChainVerdict {
  const { seq, prev, hash } = batch;
  if (head.lastSeq === null) {
    if (seq === 0 && prev === ZERO_HASH) return { kind: 'next' };
    return {
      kind: 'gap',
      resync: true,
      detail: `first batch of the agent has seq ${seq} (expected 0 with a zero prev)`,
    };
  }
  if (seq <= head.lastSeq) {
    const seen = seq === head.lastSeq ? head.lastHash : knownHash;
    if (seen === hash) return { kind: 'duplicate' };
    return {
      kind: 'gap',
      resync: false,
      detail:
        seen === undefined || seen === null
          ? `seq ${seq} is behind the chain head ${head.lastSeq} and unknown`
          : `seq ${seq} was already used with other content`,
    };
  }
  if (seq === head.lastSeq + 1) {
    if (prev === head.lastHash) return { kind: 'next' };
    return {
      kind: 'gap',
      resync: true,
      detail: `prev of seq ${seq} does not match seq ${head.lastSeq}`,
    };
  }
  return {
    kind: 'gap',
    resync: true,
    detail: `seq ${seq} follows ${head.lastSeq}: ${seq - head.lastSeq - 1} batch(es) missing`,
  };
}
