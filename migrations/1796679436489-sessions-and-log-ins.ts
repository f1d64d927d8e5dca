import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh tokens rotated from one log-in share a family (a replayed one revokes it), and failed
 * log-ins are counted per account (docs/security.md, "Sessions" and "Log-in abuse").
 */
export class SessionsAndLogIns1796679436489 implements MigrationInterface {
  name = 'SessionsAndLogIns1796679436489';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "login_throttles" ("key" text NOT NULL, "failures" integer NOT NULL, "blocked_until" TIMESTAMP WITH TIME ZONE, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_366650e3560115bd25315ca53d0" PRIMARY KEY ("key"))',
    );
    await queryRunner.query('ALTER TABLE "refresh_tokens" ADD "family_id" uuid');
    // Tokens issued before families each start their own.
    await queryRunner.query('UPDATE "refresh_tokens" SET "family_id" = "id"');
    await queryRunner.query('ALTER TABLE "refresh_tokens" ALTER COLUMN "family_id" SET NOT NULL');
    await queryRunner.query(
      'CREATE INDEX "IDX_d5e27da0cd39bc3bb2811fc8ba" ON "refresh_tokens" ("family_id") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_d5e27da0cd39bc3bb2811fc8ba"');
    await queryRunner.query('ALTER TABLE "refresh_tokens" DROP COLUMN "family_id"');
    await queryRunner.query('DROP TABLE "login_throttles"');
  }
}
