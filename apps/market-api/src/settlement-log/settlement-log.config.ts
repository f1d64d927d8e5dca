import { z } from 'zod';

const schema = z.object({
  /** The log's name in checkpoints: `<platform code>/settlement`. */
  SETTLEMENT_LOG_ORIGIN: z.string().min(1).optional(),
  /** A fresh checkpoint is signed at least this often (and whenever the tree grew). */
  SETTLEMENT_LOG_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Leaves sequenced per sequencer transaction. */
  SETTLEMENT_LOG_BATCH: z.coerce.number().int().min(1).max(100_000).default(5_000),
  /** Tiles kept in memory for proofs (8 KiB each, plus the subtree hashes computed in them). */
  SETTLEMENT_LOG_TILE_CACHE: z.coerce.number().int().min(0).max(1_000_000).default(8_192),
  /** How long a checkpoint waits for committed leaves held back by an older running writer. */
  SETTLEMENT_LOG_CATCH_UP_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
});

/** Settlement log settings, validated from the environment. */
export class SettlementLogConfig {
  readonly origin: string | undefined;
  readonly checkpointMs: number;
  readonly batch: number;
  readonly tileCache: number;
  readonly catchUpMs: number;
  /** Follows SETTLEMENT_SCHEDULER: `off` (tests) signs checkpoints only on demand. */
  readonly schedulerEnabled: boolean;

  constructor(env: Record<string, string | undefined>) {
    const pick = (k: string) => (env[k] === '' ? undefined : env[k]);
    const parsed = schema.safeParse({
      SETTLEMENT_LOG_ORIGIN: pick('SETTLEMENT_LOG_ORIGIN'),
      SETTLEMENT_LOG_CHECKPOINT_SECONDS: pick('SETTLEMENT_LOG_CHECKPOINT_SECONDS'),
      SETTLEMENT_LOG_BATCH: pick('SETTLEMENT_LOG_BATCH'),
      SETTLEMENT_LOG_TILE_CACHE: pick('SETTLEMENT_LOG_TILE_CACHE'),
      SETTLEMENT_LOG_CATCH_UP_MS: pick('SETTLEMENT_LOG_CATCH_UP_MS'),
    });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new Error(`invalid settlement log configuration:\n  ${problems.join('\n  ')}`);
    }
    this.origin = parsed.data.SETTLEMENT_LOG_ORIGIN;
    this.checkpointMs = parsed.data.SETTLEMENT_LOG_CHECKPOINT_SECONDS * 1000;
    this.batch = parsed.data.SETTLEMENT_LOG_BATCH;
    this.tileCache = parsed.data.SETTLEMENT_LOG_TILE_CACHE;
    this.catchUpMs = parsed.data.SETTLEMENT_LOG_CATCH_UP_MS;
    this.schedulerEnabled = env.SETTLEMENT_SCHEDULER !== 'off';
  }
}
