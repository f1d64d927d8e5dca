// Liveness of the ingest's consumer: a partition this instance owns whose committed offset has
// not moved for too long while messages wait on it is stalled (a Kafka client that stopped
// fetching it after a broker failure, say). The ingest then restarts its consumer. Lease events
// matter most: while they stall, usage for new leases is held and then dead-lettered.

export interface OffsetSample {
  topic: string;
  partition: number;
  /** The group's committed offset (or the partition's low watermark when none). */
  offset: string;
  /** Messages after `offset`. */
  lag: number;
}

export interface Stall {
  topic: string;
  partition: number;
  lag: number;
  /** How long the offset has not moved while there was lag. */
  stalledMs: number;
}

/** `topic:partition`: the key of the partitions an instance owns. */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * Follows the committed offsets sample by sample. `limitMs(topic)`: how long a partition may show
 * lag without progress before it counts as stalled (usage batches may be held back on purpose
 * while their lease event is on the way, so the usage topic gets a longer limit).
 */
export class StallWatch {
  private readonly since = new Map<string, { offset: string; at: number }>();

  constructor(private readonly limitMs: (topic: string) => number) {}

  /** Records a round of samples; returns the owned partitions stalled beyond their limit. */
  observe(samples: OffsetSample[], owned: ReadonlySet<string>, now = Date.now()): Stall[] {
    const stalls: Stall[] = [];
    for (const s of samples) {
      const key = partitionKey(s.topic, s.partition);
      const prev = this.since.get(key);
      // No lag, a moved offset, or a partition another instance owns: the clock starts again.
      if (s.lag <= 0 || !owned.has(key) || prev === undefined || prev.offset !== s.offset) {
        this.since.set(key, { offset: s.offset, at: now });
        continue;
      }
      const stalledMs = now - prev.at;
      if (stalledMs > this.limitMs(s.topic)) {
        stalls.push({ topic: s.topic, partition: s.partition, lag: s.lag, stalledMs });
      }
    }
    return stalls;
  }

  /** Forgets every partition's history (after the consumer restarted or the assignment changed). */
  reset(): void {
    this.since.clear();
  }
}
