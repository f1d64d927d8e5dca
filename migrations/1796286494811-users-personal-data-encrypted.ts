import type { MigrationInterface, QueryRunner } from 'typeorm';

// Login e-mails and display names become field-encrypted (AES-256-GCM under the organization's
// data key) and found by a blind index. Encrypting needs PRIVACY_MASTER_KEYS and EMAIL_INDEX_KEY,
// which only the app has, so this migration only makes room: existing rows are encrypted, and
// their plaintext emptied, by the market API at start-up (UsersRepository.backfillPlaintext,
// idempotent). The plaintext columns are dropped by a later migration once that has run.
export class UsersPersonalDataEncrypted1796286494811 implements MigrationInterface {
  name = 'UsersPersonalDataEncrypted1796286494811';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_97672ac88f789774dd47f7c8be"');
    await queryRunner.query('ALTER TABLE "users" ADD "email_index" text');
    await queryRunner.query('ALTER TABLE "users" ADD "email_enc" text');
    await queryRunner.query('ALTER TABLE "users" ADD "display_name_enc" text');
    await queryRunner.query('ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL');
    await queryRunner.query('ALTER TABLE "users" ALTER COLUMN "display_name" DROP NOT NULL');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_498cf712f15452d301a943fd5c" ON "users"  ("email_index") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_498cf712f15452d301a943fd5c"');
    // Encrypted rows have no plaintext to go back to: they get placeholders (and cannot log in).
    await queryRunner.query(
      'UPDATE "users" SET "email" = \'encrypted-\' || "id" || \'@invalid\' WHERE "email" IS NULL',
    );
    await queryRunner.query(
      'UPDATE "users" SET "display_name" = \'\' WHERE "display_name" IS NULL',
    );
    await queryRunner.query('ALTER TABLE "users" ALTER COLUMN "display_name" SET NOT NULL');
    await queryRunner.query('ALTER TABLE "users" ALTER COLUMN "email" SET NOT NULL');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "display_name_enc"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "email_enc"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "email_index"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_97672ac88f789774dd47f7c8be" ON "users" USING btree ("email") ',
    );
  }
}
