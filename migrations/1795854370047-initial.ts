import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795854370047 implements MigrationInterface {
  name = 'Initial1795854370047';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "organizations" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "name" text NOT NULL, "roles" text array NOT NULL, "industry" character(1) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6b031fcd0863e3f6b44230163f9" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "email" text NOT NULL, "password_hash" text NOT NULL, "display_name" text NOT NULL, "org_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_97672ac88f789774dd47f7c8be" ON "users"  ("email") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_0a13270cd3101fd16b8000e00d" ON "users"  ("org_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "refresh_tokens" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "user_id" uuid NOT NULL, "token_hash" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7d8bee0204106019488c4c50ffa" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_3ddc983c5f7bcf132fd8732c3f" ON "refresh_tokens"  ("user_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_a7838d2ba25be1342091b6695f" ON "refresh_tokens"  ("token_hash") ',
    );
    await queryRunner.query(
      'CREATE TABLE "idempotency_keys" ("scope" text NOT NULL, "key" text NOT NULL, "request_hash" text NOT NULL, "status_code" integer, "response_body" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_15de2f76fa9f27ad8f330983607" PRIMARY KEY ("scope", "key"))',
    );
    await queryRunner.query(
      'CREATE TABLE "offers" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "resource_id" uuid NOT NULL, "seller_org_id" uuid NOT NULL, "title" text NOT NULL, "currency" character(3) NOT NULL, "capacity" integer NOT NULL, "pricing_model" text NOT NULL, "prices" jsonb NOT NULL, "min_hours" integer NOT NULL, "max_hours" integer NOT NULL, "accepts_unsigned" boolean NOT NULL DEFAULT false, "status" text NOT NULL DEFAULT \'active\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4c88e956195bba85977da21b8f4" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_1712fd4c3cbfe565722732bccb" ON "offers"  ("resource_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_b54b7c228792a6088d2297f91b" ON "offers"  ("seller_org_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "orders" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "buyer_org_id" uuid NOT NULL, "offer_id" uuid NOT NULL, "slots" integer NOT NULL, "hours" integer NOT NULL, "status" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_710e2d4957aa5878dfe94e4ac2f" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_1594eb5ec9c8738d0e403399b3" ON "orders"  ("buyer_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_78d625807c4cd2f0d96d4dbd04" ON "orders"  ("offer_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "leases" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "order_id" uuid NOT NULL, "offer_id" uuid NOT NULL, "resource_id" uuid NOT NULL, "buyer_org_id" uuid NOT NULL, "seller_org_id" uuid NOT NULL, "slots" integer NOT NULL, "state" text NOT NULL, "starts_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ends_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ended_at" TIMESTAMP WITH TIME ZONE, "end_reason" text, "currency" character(3) NOT NULL, "prices" jsonb NOT NULL, "catalog_version" text NOT NULL, "take_rate" numeric(38,9) NOT NULL, "settled_until" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_2668e338ab2d27079170ea55ea2" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_c9fe39a980e373220c4ec563da" ON "leases"  ("order_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_0e15517b0ab066cc5d948c5721" ON "leases"  ("offer_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_7794c066f5570f809262f02e72" ON "leases"  ("buyer_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_39aa75e1d84ec1f799f31240a2" ON "leases"  ("seller_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_7f87e9d36a001a5198ce9d0828" ON "leases"  ("resource_id", "state") ',
    );
    await queryRunner.query(
      'CREATE TABLE "usage_events" ("source" text NOT NULL, "event_id" text NOT NULL, "lease_id" uuid NOT NULL, "window_start" TIMESTAMP WITH TIME ZONE NOT NULL, "window_end" TIMESTAMP WITH TIME ZONE NOT NULL, "units" jsonb NOT NULL, "signed" boolean NOT NULL DEFAULT true, "batch_seq" bigint, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8add6e23f8d80a8a28d1ad45373" PRIMARY KEY ("source", "event_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_be211f59c255f67565237de016" ON "usage_events"  ("lease_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "agent_batches" ("agent_id" text NOT NULL, "seq" bigint NOT NULL, "hash" text NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4712429894d371602888c0a7a62" PRIMARY KEY ("agent_id", "seq"))',
    );
    await queryRunner.query(
      'CREATE TABLE "usage_minutes" ("lease_id" uuid NOT NULL, "unit" text NOT NULL, "bucket" TIMESTAMP WITH TIME ZONE NOT NULL, "quantity" numeric(38,9) NOT NULL, CONSTRAINT "PK_8f58a4a765cbdfe874c590dc38b" PRIMARY KEY ("lease_id", "unit", "bucket"))',
    );
    await queryRunner.query(
      'CREATE TABLE "usage_hours" ("lease_id" uuid NOT NULL, "unit" text NOT NULL, "bucket" TIMESTAMP WITH TIME ZONE NOT NULL, "quantity" numeric(38,9) NOT NULL, CONSTRAINT "PK_e57ce016b391c6238e8a3c6df69" PRIMARY KEY ("lease_id", "unit", "bucket"))',
    );
    await queryRunner.query(
      'CREATE TABLE "usage_dead_letters" ("id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL, "reason" text NOT NULL, "detail" text NOT NULL, "agent_id" text, "seq" bigint, "event_id" text, "lease_id" uuid, "event" jsonb, "raw" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8640d952995b031ea56f323d22f" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_b7bc850897738f0dc9924382b1" ON "usage_dead_letters"  ("reason") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_42289fc29cbe9f6aac5db3ad2a" ON "usage_dead_letters"  ("agent_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_a25340229aee3b33d75a2769c8" ON "usage_dead_letters"  ("lease_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "registrants" ("org_id" uuid NOT NULL, "code" text NOT NULL, "next_serial" integer NOT NULL DEFAULT \'1\', CONSTRAINT "PK_0e143669f4fc539d0e796ed6efe" PRIMARY KEY ("org_id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_2fbaec45ddf3af3e2a8e37ba37" ON "registrants"  ("code") ',
    );
    await queryRunner.query(
      'CREATE TABLE "resources" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "handle" text NOT NULL, "cri" text NOT NULL, "name" text NOT NULL, "owner_org_id" uuid NOT NULL, "registrant" text NOT NULL, "serial" text NOT NULL, "industry" character(1) NOT NULL, "class" text NOT NULL, "form" text NOT NULL, "country" text NOT NULL, "subdivision" text NOT NULL, "site" text NOT NULL, "spec" jsonb NOT NULL, "cpu_model" text, "state" text NOT NULL DEFAULT \'prepared\', "last_heartbeat_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_632484ab9dff41bba94f9b7c85e" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_022e0578eaa958e3c86e3da36b" ON "resources"  ("handle") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_5cdafe129a6a47ef96f67b21f1" ON "resources"  ("cri") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_b16f65cc266fdb0b15288d4386" ON "resources"  ("owner_org_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "agents" ("id" text NOT NULL, "resource_id" uuid NOT NULL, "kid" text NOT NULL, "public_jwk" jsonb NOT NULL, "last_seq" bigint, "last_hash" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_9c653f28ae19c5884d5baf6a1d9" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_4fff8855df77b573c9eced96c4" ON "agents"  ("resource_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "ledger_accounts" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "owner_key" text NOT NULL, "kind" text NOT NULL, "currency" character(3) NOT NULL, "balance" numeric(38,9) NOT NULL DEFAULT \'0\', CONSTRAINT "uq_ledger_account" UNIQUE ("owner_key", "kind", "currency"), CONSTRAINT "PK_62b34396dda564757cf123fff0e" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "ledger_transactions" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "kind" text NOT NULL, "reference" text NOT NULL, "memo" text NOT NULL DEFAULT \'\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_633d103c9e415d615aacf9b1929" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_d87ef09b49fbca993d4370616a" ON "ledger_transactions"  ("reference") ',
    );
    await queryRunner.query(
      'CREATE TABLE "ledger_entries" ("id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL, "transaction_id" uuid NOT NULL, "account_id" uuid NOT NULL, "currency" character(3) NOT NULL, "amount" numeric(38,9) NOT NULL, CONSTRAINT "PK_6efcb84411d3f08b08450ae75d5" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_b26c5ef5853fd6e0a8680427f6" ON "ledger_entries"  ("transaction_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_e4440167e470be69f9622c1cea" ON "ledger_entries"  ("account_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "debit_notes" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "lease_id" uuid NOT NULL, "period_start" TIMESTAMP WITH TIME ZONE NOT NULL, "period_end" TIMESTAMP WITH TIME ZONE NOT NULL, "currency" character(3) NOT NULL, "lines" jsonb NOT NULL, "gross" numeric(38,9) NOT NULL, "fee" numeric(38,9) NOT NULL, "net" numeric(38,9) NOT NULL, "transaction_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_debit_note_period" UNIQUE ("lease_id", "period_start"), CONSTRAINT "PK_e1f73e65add1542776ce7087fae" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "invoices" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "number" text NOT NULL, "lease_id" uuid NOT NULL, "buyer_org_id" uuid NOT NULL, "seller_org_id" uuid NOT NULL, "currency" character(3) NOT NULL, "period_start" TIMESTAMP WITH TIME ZONE NOT NULL, "period_end" TIMESTAMP WITH TIME ZONE NOT NULL, "lines" jsonb NOT NULL, "debit_note_ids" uuid array NOT NULL, "subtotal" numeric(38,9) NOT NULL, "credits" numeric(38,9) NOT NULL, "total" numeric(38,9) NOT NULL, "fee" numeric(38,9) NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_668cef7c22a427fd822cc1be3ce" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_6b20aa66f2a835a4f2fbde4872" ON "invoices"  ("number") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_da309569f957adb1f09c8bb109" ON "invoices"  ("lease_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_713cfb29548f9c25615c541b7a" ON "invoices"  ("buyer_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_621f3076688054926b77fb6629" ON "invoices"  ("seller_org_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "invoice_counters" ("year" text NOT NULL, "last" integer NOT NULL DEFAULT \'0\', CONSTRAINT "PK_92ebf3750827f45752cb0582806" PRIMARY KEY ("year"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "invoice_counters"');
    await queryRunner.query('DROP INDEX "public"."IDX_621f3076688054926b77fb6629"');
    await queryRunner.query('DROP INDEX "public"."IDX_713cfb29548f9c25615c541b7a"');
    await queryRunner.query('DROP INDEX "public"."IDX_da309569f957adb1f09c8bb109"');
    await queryRunner.query('DROP INDEX "public"."IDX_6b20aa66f2a835a4f2fbde4872"');
    await queryRunner.query('DROP TABLE "invoices"');
    await queryRunner.query('DROP TABLE "debit_notes"');
    await queryRunner.query('DROP INDEX "public"."IDX_e4440167e470be69f9622c1cea"');
    await queryRunner.query('DROP INDEX "public"."IDX_b26c5ef5853fd6e0a8680427f6"');
    await queryRunner.query('DROP TABLE "ledger_entries"');
    await queryRunner.query('DROP INDEX "public"."IDX_d87ef09b49fbca993d4370616a"');
    await queryRunner.query('DROP TABLE "ledger_transactions"');
    await queryRunner.query('DROP TABLE "ledger_accounts"');
    await queryRunner.query('DROP INDEX "public"."IDX_4fff8855df77b573c9eced96c4"');
    await queryRunner.query('DROP TABLE "agents"');
    await queryRunner.query('DROP INDEX "public"."IDX_b16f65cc266fdb0b15288d4386"');
    await queryRunner.query('DROP INDEX "public"."IDX_5cdafe129a6a47ef96f67b21f1"');
    await queryRunner.query('DROP INDEX "public"."IDX_022e0578eaa958e3c86e3da36b"');
    await queryRunner.query('DROP TABLE "resources"');
    await queryRunner.query('DROP INDEX "public"."IDX_2fbaec45ddf3af3e2a8e37ba37"');
    await queryRunner.query('DROP TABLE "registrants"');
    await queryRunner.query('DROP INDEX "public"."IDX_a25340229aee3b33d75a2769c8"');
    await queryRunner.query('DROP INDEX "public"."IDX_42289fc29cbe9f6aac5db3ad2a"');
    await queryRunner.query('DROP INDEX "public"."IDX_b7bc850897738f0dc9924382b1"');
    await queryRunner.query('DROP TABLE "usage_dead_letters"');
    await queryRunner.query('DROP TABLE "usage_hours"');
    await queryRunner.query('DROP TABLE "usage_minutes"');
    await queryRunner.query('DROP TABLE "agent_batches"');
    await queryRunner.query('DROP INDEX "public"."IDX_be211f59c255f67565237de016"');
    await queryRunner.query('DROP TABLE "usage_events"');
    await queryRunner.query('DROP INDEX "public"."IDX_7f87e9d36a001a5198ce9d0828"');
    await queryRunner.query('DROP INDEX "public"."IDX_39aa75e1d84ec1f799f31240a2"');
    await queryRunner.query('DROP INDEX "public"."IDX_7794c066f5570f809262f02e72"');
    await queryRunner.query('DROP INDEX "public"."IDX_0e15517b0ab066cc5d948c5721"');
    await queryRunner.query('DROP INDEX "public"."IDX_c9fe39a980e373220c4ec563da"');
    await queryRunner.query('DROP TABLE "leases"');
    await queryRunner.query('DROP INDEX "public"."IDX_78d625807c4cd2f0d96d4dbd04"');
    await queryRunner.query('DROP INDEX "public"."IDX_1594eb5ec9c8738d0e403399b3"');
    await queryRunner.query('DROP TABLE "orders"');
    await queryRunner.query('DROP INDEX "public"."IDX_b54b7c228792a6088d2297f91b"');
    await queryRunner.query('DROP INDEX "public"."IDX_1712fd4c3cbfe565722732bccb"');
    await queryRunner.query('DROP TABLE "offers"');
    await queryRunner.query('DROP TABLE "idempotency_keys"');
    await queryRunner.query('DROP INDEX "public"."IDX_a7838d2ba25be1342091b6695f"');
    await queryRunner.query('DROP INDEX "public"."IDX_3ddc983c5f7bcf132fd8732c3f"');
    await queryRunner.query('DROP TABLE "refresh_tokens"');
    await queryRunner.query('DROP INDEX "public"."IDX_0a13270cd3101fd16b8000e00d"');
    await queryRunner.query('DROP INDEX "public"."IDX_97672ac88f789774dd47f7c8be"');
    await queryRunner.query('DROP TABLE "users"');
    await queryRunner.query('DROP TABLE "organizations"');
  }
}
