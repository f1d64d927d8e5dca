import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The settlement log moves from one row per perfect subtree (`settlement_log_nodes`) and an
 * updated `leaf_index` on every leaf to C2SP tiles (docs/decisions.md, "Settlement log as
 * tiles"): leaves are never updated, the sequencer orders them by (tx, seq) and writes one tile
 * row per 256 leaves. The existing tree is converted, not rebuilt: level-0 tiles from the leaf
 * hashes in index order, level-L tiles from the stored nodes of height 8L; leaves sequenced
 * before get tx 0 (and the state's cursor after the last of them), leaves still pending tx 1,
 * so they follow in their old order. Down recomputes `leaf_index` and every perfect node.
 */
export class SettlementLogTiles1796664900000 implements MigrationInterface {
  name = 'SettlementLogTiles1796664900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(
      'CREATE TABLE "settlement_log_tiles" ("level" smallint NOT NULL, "idx" bigint NOT NULL, "hashes" bytea NOT NULL, CONSTRAINT "PK_8d7cb67fd00caac5608a45d3638" PRIMARY KEY ("level", "idx"))',
    );
    // Hashes do not compress: keep them out of line without trying.
    await q('ALTER TABLE "settlement_log_tiles" ALTER COLUMN "hashes" SET STORAGE EXTERNAL');
    await q(
      `INSERT INTO "settlement_log_tiles" ("level", "idx", "hashes")
       SELECT 0, "leaf_index" / 256, string_agg("leaf_hash", ''::bytea ORDER BY "leaf_index")
       FROM "settlement_log_leaves" WHERE "leaf_index" IS NOT NULL GROUP BY "leaf_index" / 256`,
    );
    await q(
      `INSERT INTO "settlement_log_tiles" ("level", "idx", "hashes")
       SELECT "level" / 8, "idx" / 256, string_agg("hash", ''::bytea ORDER BY "idx")
       FROM "settlement_log_nodes" WHERE "level" % 8 = 0 GROUP BY "level", "idx" / 256`,
    );
    await q(
      'CREATE TABLE "settlement_log_tile_leaves" ("idx" bigint NOT NULL, "seqs" bigint array NOT NULL, "seq_range" int8range NOT NULL, CONSTRAINT "PK_8f27050e707e1630fd51295ee60" PRIMARY KEY ("idx"))',
    );
    await q(
      `INSERT INTO "settlement_log_tile_leaves" ("idx", "seqs", "seq_range")
       SELECT "leaf_index" / 256, array_agg("seq" ORDER BY "leaf_index"), int8range(min("seq"), max("seq"), '[]')
       FROM "settlement_log_leaves" WHERE "leaf_index" IS NOT NULL GROUP BY "leaf_index" / 256`,
    );
    await q(
      'CREATE INDEX "ix_settlement_log_tile_leaves_range" ON "settlement_log_tile_leaves" USING gist ("seq_range") ',
    );
    await q(
      'CREATE TABLE "settlement_log_state" ("id" smallint NOT NULL, "size" bigint NOT NULL, "last_tx" bigint NOT NULL, "last_seq" bigint NOT NULL, CONSTRAINT "PK_3d7805b2ab61728d24c9c8e4296" PRIMARY KEY ("id"))',
    );
    await q(
      `INSERT INTO "settlement_log_state" ("id", "size", "last_tx", "last_seq")
       SELECT 1, count("leaf_index"), 0, coalesce(max("seq") FILTER (WHERE "leaf_index" IS NOT NULL), 0)
       FROM "settlement_log_leaves"`,
    );
    await q('ALTER TABLE "settlement_log_leaves" ADD "tx" bigint NOT NULL DEFAULT 0');
    await q('UPDATE "settlement_log_leaves" SET "tx" = 1 WHERE "leaf_index" IS NULL');
    await q('ALTER TABLE "settlement_log_leaves" ALTER COLUMN "tx" DROP DEFAULT');
    await q('DROP INDEX "public"."uq_settlement_log_leaf_index"');
    await q('DROP INDEX "public"."IDX_570a94835bdc0228e5edf5b625"');
    await q('DROP INDEX "public"."IDX_081e08287f2f3e1fec2e36b97e"');
    await q('DROP INDEX "public"."ix_settlement_log_pending"');
    await q('ALTER TABLE "settlement_log_leaves" DROP COLUMN "leaf_index"');
    await q('DROP TABLE "settlement_log_nodes"');
    await q('ALTER TABLE "settlement_log_checkpoints" ADD "note" text');
    await q(
      'CREATE INDEX "ix_settlement_log_seller" ON "settlement_log_leaves"  ("seller_org_id", "seq") ',
    );
    await q('CREATE INDEX "ix_settlement_log_order" ON "settlement_log_leaves"  ("tx", "seq") ');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q('DROP INDEX "public"."ix_settlement_log_order"');
    await q('DROP INDEX "public"."ix_settlement_log_seller"');
    await q('ALTER TABLE "settlement_log_checkpoints" DROP COLUMN "note"');
    await q('ALTER TABLE "settlement_log_leaves" ADD "leaf_index" bigint');
    await q(
      `UPDATE "settlement_log_leaves" l SET "leaf_index" = t."idx" * 256 + o.ord - 1
       FROM "settlement_log_tile_leaves" t, unnest(t."seqs") WITH ORDINALITY AS o(seq, ord)
       WHERE l."seq" = o.seq`,
    );
    await q(
      'CREATE TABLE "settlement_log_nodes" ("level" smallint NOT NULL, "idx" bigint NOT NULL, "hash" bytea NOT NULL, CONSTRAINT "PK_80a49401a37cdfcaf0dea5a7ef3" PRIMARY KEY ("level", "idx"))',
    );
    // Every perfect subtree of height ≥ 1, level by level (RFC 9162 node hash).
    await q(
      `INSERT INTO "settlement_log_nodes" ("level", "idx", "hash")
       SELECT 1, a."leaf_index" / 2, sha256('\\x01'::bytea || a."leaf_hash" || b."leaf_hash")
       FROM "settlement_log_leaves" a JOIN "settlement_log_leaves" b ON b."leaf_index" = a."leaf_index" + 1
       WHERE a."leaf_index" % 2 = 0`,
    );
    await q(
      `DO $$
       DECLARE lvl int := 1; n bigint;
       BEGIN
         LOOP
           lvl := lvl + 1;
           INSERT INTO "settlement_log_nodes" ("level", "idx", "hash")
           SELECT lvl, a."idx" / 2, sha256('\\x01'::bytea || a."hash" || b."hash")
           FROM "settlement_log_nodes" a JOIN "settlement_log_nodes" b
             ON b."level" = a."level" AND b."idx" = a."idx" + 1
           WHERE a."level" = lvl - 1 AND a."idx" % 2 = 0;
           GET DIAGNOSTICS n = ROW_COUNT;
           EXIT WHEN n = 0;
         END LOOP;
       END $$`,
    );
    await q('ALTER TABLE "settlement_log_leaves" DROP COLUMN "tx"');
    await q('DROP TABLE "settlement_log_state"');
    await q('DROP INDEX "public"."ix_settlement_log_tile_leaves_range"');
    await q('DROP TABLE "settlement_log_tile_leaves"');
    await q('DROP TABLE "settlement_log_tiles"');
    await q(
      'CREATE INDEX "ix_settlement_log_pending" ON "settlement_log_leaves" USING btree ("seq") WHERE (leaf_index IS NULL)',
    );
    await q(
      'CREATE INDEX "IDX_081e08287f2f3e1fec2e36b97e" ON "settlement_log_leaves" USING btree ("buyer_org_id") ',
    );
    await q(
      'CREATE INDEX "IDX_570a94835bdc0228e5edf5b625" ON "settlement_log_leaves" USING btree ("seller_org_id") ',
    );
    await q(
      'CREATE UNIQUE INDEX "uq_settlement_log_leaf_index" ON "settlement_log_leaves" USING btree ("leaf_index") ',
    );
  }
}
