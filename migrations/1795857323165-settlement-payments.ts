import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SettlementPayments1795857323165 implements MigrationInterface {
  name = 'SettlementPayments1795857323165';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "lease_terms" ("lease_id" uuid NOT NULL, "sla" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_fd7fb49e18ce82b6b59341cf3c9" PRIMARY KEY ("lease_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "stripe_events" ("id" text NOT NULL, "type" text NOT NULL, "outcome" text NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d3247bd5fc3f66b6982bbcdd897" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "top_ups" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "org_id" uuid NOT NULL, "currency" character(3) NOT NULL, "amount" numeric(38,9) NOT NULL, "provider" text NOT NULL, "session_id" text, "payment_intent_id" text, "status" text NOT NULL, "refunded" numeric(38,9) NOT NULL DEFAULT \'0\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "paid_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_8e4e0bba38282ae0fb06751ea81" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_a11e091156d22294120acb89e5" ON "top_ups"  ("org_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_b6bdad5e4c71592b91a6c118a0" ON "top_ups"  ("session_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "connect_accounts" ("org_id" uuid NOT NULL, "stripe_account_id" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_aee59b68d241c021840cc2b1b41" PRIMARY KEY ("org_id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_78f1618d96435e69c2f7861e53" ON "connect_accounts"  ("stripe_account_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "stripe_movements" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "kind" text NOT NULL, "org_id" uuid NOT NULL, "currency" character(3) NOT NULL, "amount" numeric(38,9) NOT NULL, "reference" text NOT NULL, "stripe_id" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ca784ded630be12552189e5e196" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_ef10d563fd77bf219f7eea22c2" ON "stripe_movements"  ("org_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_ee362de634d1b6a1bdcc4b2848" ON "stripe_movements"  ("reference") ',
    );
    await queryRunner.query(
      'ALTER TABLE "debit_notes" ADD "kind" text NOT NULL DEFAULT \'period\'',
    );
    await queryRunner.query('ALTER TABLE "invoices" ADD "sla" jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "invoices" DROP COLUMN "sla"');
    await queryRunner.query('ALTER TABLE "debit_notes" DROP COLUMN "kind"');
    await queryRunner.query('DROP INDEX "public"."IDX_ee362de634d1b6a1bdcc4b2848"');
    await queryRunner.query('DROP INDEX "public"."IDX_ef10d563fd77bf219f7eea22c2"');
    await queryRunner.query('DROP TABLE "stripe_movements"');
    await queryRunner.query('DROP INDEX "public"."IDX_78f1618d96435e69c2f7861e53"');
    await queryRunner.query('DROP TABLE "connect_accounts"');
    await queryRunner.query('DROP INDEX "public"."IDX_b6bdad5e4c71592b91a6c118a0"');
    await queryRunner.query('DROP INDEX "public"."IDX_a11e091156d22294120acb89e5"');
    await queryRunner.query('DROP TABLE "top_ups"');
    await queryRunner.query('DROP TABLE "stripe_events"');
    await queryRunner.query('DROP TABLE "lease_terms"');
  }
}
