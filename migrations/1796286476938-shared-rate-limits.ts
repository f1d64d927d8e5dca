import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SharedRateLimits1796286476938 implements MigrationInterface {
  name = 'SharedRateLimits1796286476938';

  async up(queryRunner: QueryRunner): Promise<void> {
    // UNLOGGED: no WAL on the hot path; after a crash the buckets start full, which is harmless.
    await queryRunner.query(
      'CREATE UNLOGGED TABLE "rate_limit_buckets" ("key" text NOT NULL, "tat" double precision NOT NULL, "interval_s" double precision NOT NULL, "burst" integer NOT NULL, "allowed" boolean NOT NULL, CONSTRAINT "PK_9eb2f8a2ae370667b4ca83dd313" PRIMARY KEY ("key"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "rate_limit_buckets"');
  }
}
