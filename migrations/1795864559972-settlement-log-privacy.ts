import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SettlementLogPrivacy1795864559972 implements MigrationInterface {
  name = 'SettlementLogPrivacy1795864559972';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "org_data_keys" ("org_id" uuid NOT NULL, "version" integer NOT NULL, "master_key_id" text NOT NULL, "wrapped_key" text, "active" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "shredded_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_69a810a94d244263123a389e174" PRIMARY KEY ("org_id", "version"))',
    );
    await queryRunner.query(
      'CREATE TABLE "org_personal_data" ("org_id" uuid NOT NULL, "fields" jsonb NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0e6a8059da5d041b71242fe6248" PRIMARY KEY ("org_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "personal_data_access_log" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "subject_org_id" uuid NOT NULL, "reader_user_id" uuid NOT NULL, "reader_org_id" uuid NOT NULL, "fields" text array NOT NULL, "purpose" text NOT NULL, "outcome" text NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_4cacb73199ffd64c66ecb2d0044" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_da5ed246462d07a3ec10e3c2ea" ON "personal_data_access_log"  ("subject_org_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "settlement_log_leaves" ("seq" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "leaf_index" bigint, "kind" text NOT NULL, "record_id" text NOT NULL, "seller_org_id" uuid, "buyer_org_id" uuid, "leaf" text NOT NULL, "leaf_hash" bytea NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_settlement_log_record" UNIQUE ("kind", "record_id"), CONSTRAINT "PK_84ecdb1aec3858d6ca4a0abc3bb" PRIMARY KEY ("seq"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_settlement_log_leaf_index" ON "settlement_log_leaves"  ("leaf_index") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_570a94835bdc0228e5edf5b625" ON "settlement_log_leaves"  ("seller_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_081e08287f2f3e1fec2e36b97e" ON "settlement_log_leaves"  ("buyer_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_settlement_log_pending" ON "settlement_log_leaves"  ("seq") WHERE "leaf_index" IS NULL',
    );
    await queryRunner.query(
      'CREATE TABLE "settlement_log_nodes" ("level" smallint NOT NULL, "idx" bigint NOT NULL, "hash" bytea NOT NULL, CONSTRAINT "PK_80a49401a37cdfcaf0dea5a7ef3" PRIMARY KEY ("level", "idx"))',
    );
    await queryRunner.query(
      'CREATE TABLE "settlement_log_checkpoints" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "tree_size" bigint NOT NULL, "root_hash" text NOT NULL, "signed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "kid" text NOT NULL, "jws" text NOT NULL, CONSTRAINT "PK_783db65b2686314c3b861e06d52" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_70535ef0820cd7110c72362cd3" ON "settlement_log_checkpoints"  ("tree_size") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_70535ef0820cd7110c72362cd3"');
    await queryRunner.query('DROP TABLE "settlement_log_checkpoints"');
    await queryRunner.query('DROP TABLE "settlement_log_nodes"');
    await queryRunner.query('DROP INDEX "public"."ix_settlement_log_pending"');
    await queryRunner.query('DROP INDEX "public"."IDX_081e08287f2f3e1fec2e36b97e"');
    await queryRunner.query('DROP INDEX "public"."IDX_570a94835bdc0228e5edf5b625"');
    await queryRunner.query('DROP INDEX "public"."uq_settlement_log_leaf_index"');
    await queryRunner.query('DROP TABLE "settlement_log_leaves"');
    await queryRunner.query('DROP INDEX "public"."IDX_da5ed246462d07a3ec10e3c2ea"');
    await queryRunner.query('DROP TABLE "personal_data_access_log"');
    await queryRunner.query('DROP TABLE "org_personal_data"');
    await queryRunner.query('DROP TABLE "org_data_keys"');
  }
}
