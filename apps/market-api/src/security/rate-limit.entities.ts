import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One rate-limit bucket shared by every market-api instance (GCRA: a token bucket kept as the
 * "theoretical arrival time" of the next request). A row whose `tat` has passed is a full
 * bucket, the same as no row, and is swept. The table is UNLOGGED (see its migration): the
 * state is worth nothing after a crash.
 */
@Entity('rate_limit_buckets')
export class RateLimitBucketEntity {
  /** `ip:<address>`, `auth:<address>` or `key:<hash of the API key>`. */
  @PrimaryColumn({ type: 'text' }) key!: string;
  /** Epoch seconds (PostgreSQL's clock, shared by all instances). */
  @Column({ type: 'double precision' }) tat!: number;
  /** Seconds per token (1 / rate) and bucket size, as the last request configured them. */
  @Column({ name: 'interval_s', type: 'double precision' }) intervalS!: number;
  @Column({ type: 'integer' }) burst!: number;
  /** Whether the last request was admitted (what the upsert returns). */
  @Column({ type: 'boolean' }) allowed!: boolean;
}
