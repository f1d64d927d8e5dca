import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery (docs/delivery.md, "The market side"): what a resource's agent delivers, the delivered
 * leases with their desired-state version, their recorded steps, and buyers' SSH keys. The
 * version moves by a trigger on `leases`, so every path that changes a lease's state wakes the
 * agent's control channel; `lease_desired_state` is the one definition of the mapping.
 */
export class Delivery1796680000000 implements MigrationInterface {
  name = 'Delivery1796680000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "resource_delivery" ("resource_id" uuid NOT NULL, "forms" text array NOT NULL, "provisioners" jsonb NOT NULL, "reported_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_4b24970489538d939c6ed664051" PRIMARY KEY ("resource_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "lease_deliveries" ("lease_id" uuid NOT NULL, "resource_id" uuid NOT NULL, "form" text NOT NULL, "version" bigint NOT NULL, "provision_by" TIMESTAMP WITH TIME ZONE NOT NULL, "access" text, "granted_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_643b51cd6ca25bbcf0aae81312e" PRIMARY KEY ("lease_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_09dec9727b46b153ae5d7929b5" ON "lease_deliveries"  ("resource_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_3ffc1f1f6a023203ae7312520b" ON "lease_deliveries"  ("provision_by") ',
    );
    await queryRunner.query(
      'CREATE TABLE "lease_delivery_events" ("id" BIGSERIAL NOT NULL, "lease_id" uuid NOT NULL, "step" text NOT NULL, "version" bigint NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "reason" text, CONSTRAINT "PK_a19cefb1357767ed572a69e478d" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_lease_delivery_events_step" ON "lease_delivery_events"  ("lease_id", "step", "version") ',
    );
    await queryRunner.query(
      'CREATE TABLE "ssh_keys" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "org_id" uuid NOT NULL, "name" text NOT NULL, "public_key" text NOT NULL, "fingerprint" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8d68194272e979ab2d77700b1a4" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_a65f781f52ff6efe0b73c5b029" ON "ssh_keys"  ("org_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_ssh_keys_org_fingerprint" ON "ssh_keys"  ("org_id", "fingerprint") ',
    );
    await queryRunner.query('CREATE SEQUENCE "lease_delivery_version"');
    await queryRunner.query(`CREATE FUNCTION "lease_desired_state"(state text, paused_at timestamptz)
      RETURNS text IMMUTABLE LANGUAGE sql AS $$
        SELECT CASE WHEN state IN ('ended', 'provisioning_failed') THEN 'ended'
                    WHEN state = 'suspended' OR paused_at IS NOT NULL THEN 'suspended'
                    ELSE 'active' END $$`);
    await queryRunner.query(`CREATE FUNCTION "lease_delivery_bump"() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF lease_desired_state(NEW.state, NEW.paused_at)
           IS DISTINCT FROM lease_desired_state(OLD.state, OLD.paused_at) THEN
          UPDATE lease_deliveries SET version = nextval('lease_delivery_version')
           WHERE lease_id = NEW.id;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER "lease_delivery_bump" AFTER UPDATE OF state, paused_at
      ON "leases" FOR EACH ROW EXECUTE FUNCTION "lease_delivery_bump"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER "lease_delivery_bump" ON "leases"');
    await queryRunner.query('DROP FUNCTION "lease_delivery_bump"()');
    await queryRunner.query('DROP FUNCTION "lease_desired_state"(text, timestamptz)');
    await queryRunner.query('DROP SEQUENCE "lease_delivery_version"');
    await queryRunner.query('DROP INDEX "public"."UQ_ssh_keys_org_fingerprint"');
    await queryRunner.query('DROP INDEX "public"."IDX_a65f781f52ff6efe0b73c5b029"');
    await queryRunner.query('DROP TABLE "ssh_keys"');
    await queryRunner.query('DROP INDEX "public"."UQ_lease_delivery_events_step"');
    await queryRunner.query('DROP TABLE "lease_delivery_events"');
    await queryRunner.query('DROP INDEX "public"."IDX_3ffc1f1f6a023203ae7312520b"');
    await queryRunner.query('DROP INDEX "public"."IDX_09dec9727b46b153ae5d7929b5"');
    await queryRunner.query('DROP TABLE "lease_deliveries"');
    await queryRunner.query('DROP TABLE "resource_delivery"');
  }
}
