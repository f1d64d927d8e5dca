import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Federation1796681000000 implements MigrationInterface {
  name = 'Federation1796681000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "federation_platforms" ("code" text NOT NULL, "level" text NOT NULL, "name" text NOT NULL, "url" text NOT NULL, "state" text NOT NULL, "admitted_thumbprints" text array NOT NULL, "keys" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_763bde3b71d5c85845dcd11f216" PRIMARY KEY ("code"))',
    );
    await queryRunner.query(
      'CREATE TABLE "federation_directories" ("role" text NOT NULL, "serial" bigint NOT NULL, "jws" text NOT NULL, "exp" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_4d546c18a29f99009d7605ec60c" PRIMARY KEY ("role"))',
    );
    await queryRunner.query(
      'CREATE TABLE "federation_assertion_jtis" ("jti" text NOT NULL, "iss" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_e6d62e0379205ea59502fc4403a" PRIMARY KEY ("jti"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_af55ae1adab1bd7c1bfdc356af" ON "federation_assertion_jtis"  ("expires_at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "federation_resolution_cache" ("code" text NOT NULL, "authority" text NOT NULL, "record" text NOT NULL, "fetched_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_30acea7e2cd219d145266e2edb8" PRIMARY KEY ("code"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "federation_resolution_cache"');
    await queryRunner.query('DROP INDEX "public"."IDX_af55ae1adab1bd7c1bfdc356af"');
    await queryRunner.query('DROP TABLE "federation_assertion_jtis"');
    await queryRunner.query('DROP TABLE "federation_directories"');
    await queryRunner.query('DROP TABLE "federation_platforms"');
  }
}
