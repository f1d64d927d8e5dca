import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Credibility1795857480451 implements MigrationInterface {
  name = 'Credibility1795857480451';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "assessor_keys" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "org_id" uuid NOT NULL, "kid" text NOT NULL, "public_jwk" jsonb NOT NULL, "status" text NOT NULL DEFAULT \'active\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_87fad2d8cffa6b4b21b4a3647f6" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_d40e64dff557a206c247370530" ON "assessor_keys"  ("org_id", "kid") ',
    );
    await queryRunner.query(
      'CREATE TABLE "assessor_accreditations" ("org_id" uuid NOT NULL, "level" integer NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_a5675a4cb634ead3749c51a3b1a" PRIMARY KEY ("org_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "evaluation_methods" ("id" text NOT NULL, "description" text NOT NULL, "observations" integer NOT NULL, CONSTRAINT "PK_440843465640730ed61bb1b9ff7" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "evaluations" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "assessor_org_id" uuid NOT NULL, "jti" text NOT NULL, "kid" text NOT NULL, "subject_type" text NOT NULL, "subject_id" uuid NOT NULL, "seller_org_id" uuid NOT NULL, "subject_ref" text NOT NULL, "method" text NOT NULL, "payload" jsonb NOT NULL, "jws" text NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, "revoke_reason" text, CONSTRAINT "PK_f683b433eba0e6dae7e19b29e29" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_7f38ad9a4ac26f602050a6794e" ON "evaluations"  ("seller_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_79b1ffd2a3a1cabe42ccf54298" ON "evaluations"  ("subject_type", "subject_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_6f6761fec9bef8ec62749fc2a4" ON "evaluations"  ("assessor_org_id", "jti") ',
    );
    await queryRunner.query(
      'CREATE TABLE "credibility_disputes" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "seller_org_id" uuid NOT NULL, "resource_id" uuid, "lease_id" uuid, "outcome" text NOT NULL, "note" text, "decided_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_f4a0dea1877107b6c5cea1d5120" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_cc33e2ddb8327bd40f3f6c73e3" ON "credibility_disputes"  ("seller_org_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_efb0fc68353c8731a964791bc6" ON "credibility_disputes"  ("resource_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "credibility_scores" ("subject_type" text NOT NULL, "subject_id" uuid NOT NULL, "score" double precision NOT NULL, "confidence" double precision NOT NULL, "r" double precision NOT NULL, "s" double precision NOT NULL, "formula_version" text NOT NULL, "computed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "breakdown" jsonb NOT NULL, "contributions" jsonb NOT NULL, "evidence" jsonb NOT NULL, CONSTRAINT "PK_da7d30c9b430e754e365133d7d6" PRIMARY KEY ("subject_type", "subject_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_384b1a2b9a82cda9abc4a326a5" ON "credibility_scores"  ("subject_type", "score") ',
    );
    await queryRunner.query(
      'CREATE TABLE "credibility_score_history" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "subject_type" text NOT NULL, "subject_id" uuid NOT NULL, "score" double precision NOT NULL, "confidence" double precision NOT NULL, "formula_version" text NOT NULL, "computed_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_1610f98c79a7d32de48501493ef" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_c48a4dea2ded38373fce9f71c7" ON "credibility_score_history"  ("subject_type", "subject_id", "computed_at") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_c48a4dea2ded38373fce9f71c7"');
    await queryRunner.query('DROP TABLE "credibility_score_history"');
    await queryRunner.query('DROP INDEX "public"."IDX_384b1a2b9a82cda9abc4a326a5"');
    await queryRunner.query('DROP TABLE "credibility_scores"');
    await queryRunner.query('DROP INDEX "public"."IDX_efb0fc68353c8731a964791bc6"');
    await queryRunner.query('DROP INDEX "public"."IDX_cc33e2ddb8327bd40f3f6c73e3"');
    await queryRunner.query('DROP TABLE "credibility_disputes"');
    await queryRunner.query('DROP INDEX "public"."IDX_6f6761fec9bef8ec62749fc2a4"');
    await queryRunner.query('DROP INDEX "public"."IDX_79b1ffd2a3a1cabe42ccf54298"');
    await queryRunner.query('DROP INDEX "public"."IDX_7f38ad9a4ac26f602050a6794e"');
    await queryRunner.query('DROP TABLE "evaluations"');
    await queryRunner.query('DROP TABLE "evaluation_methods"');
    await queryRunner.query('DROP TABLE "assessor_accreditations"');
    await queryRunner.query('DROP INDEX "public"."IDX_d40e64dff557a206c247370530"');
    await queryRunner.query('DROP TABLE "assessor_keys"');
  }
}
