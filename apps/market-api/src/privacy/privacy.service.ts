import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, Not, type EntityManager } from 'typeorm';
import type { BillingProfile } from '@suanli/contracts';
import type { Principal } from '../auth/auth.decorators.js';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { OrganizationEntity } from '../database/accounts.entities.js';
import {
  OrgDataKeyEntity,
  OrgPersonalDataEntity,
  PersonalDataAccessEntity,
} from '../database/privacy.entities.js';
import { decryptField, encryptField, fieldVersion, open, seal } from './field-cipher.js';
import type { MasterKey } from './master-keys.js';

export const BILLING_FIELDS = [
  'legalName',
  'billingEmail',
  'address',
  'taxId',
  'stripeCustomerId',
] as const;

export type BillingProfileView = BillingProfile & {
  /** True once the organization's data key was destroyed: its personal data is gone. */
  shredded: boolean;
};

export type AccessLogView = {
  id: string;
  subjectOrgId: string;
  readerUserId: string;
  readerOrgId: string;
  fields: string[];
  purpose: string;
  outcome: string;
  at: string;
};

/**
 * Personal and billing data, encrypted field by field (AES-256-GCM) under a per-organization
 * data key that a master key from configuration wraps; data-key and master-key rotation;
 * crypto-shredding; and the access log of operators' reads.
 */
@Injectable()
export class PrivacyService {
  private readonly masters: MasterKey[];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.masters = config.privacyMasterKeys;
  }

  private wrap(
    orgId: string,
    version: number,
    key: Buffer,
  ): { masterKeyId: string; wrapped: string } {
    const master = this.masters[0];
    return { masterKeyId: master.id, wrapped: seal(master.key, key, `dek/${orgId}/${version}`) };
  }

  private unwrap(row: OrgDataKeyEntity): Buffer {
    const master = this.masters.find((k) => k.id === row.masterKeyId);
    if (!master) throw new Error(`master key ${row.masterKeyId} is not configured`);
    return open(master.key, row.wrappedKey as string, `dek/${row.orgId}/${row.version}`);
  }

  /** The organization's active data key, created on first use; null once shredded. */
  private async activeKey(
    m: EntityManager,
    orgId: string,
    create: boolean,
  ): Promise<{ version: number; key: Buffer } | null> {
    const rows = await m.find(OrgDataKeyEntity, { where: { orgId }, order: { version: 'DESC' } });
    if (rows.some((r) => r.shreddedAt !== null)) return null;
    const active = rows.find((r) => r.active);
    if (active) return { version: active.version, key: this.unwrap(active) };
    if (!create) return null;
    const version = (rows[0]?.version ?? 0) + 1;
    const key = randomBytes(32);
    const { masterKeyId, wrapped } = this.wrap(orgId, version, key);
    await m.insert(OrgDataKeyEntity, {
      orgId,
      version,
      masterKeyId,
      wrappedKey: wrapped,
      active: true,
    });
    return { version, key };
  }

  private async keyOfVersion(
    m: EntityManager,
    orgId: string,
    version: number,
  ): Promise<Buffer | null> {
    const row = await m.findOneBy(OrgDataKeyEntity, { orgId, version });
    return row && row.wrappedKey ? this.unwrap(row) : null;
  }

  /** Stores (merges) the organization's billing profile, every field encrypted. */
  async setBillingProfile(orgId: string, input: BillingProfile): Promise<BillingProfileView> {
    await this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`privacy:${orgId}`]);
      const key = await this.activeKey(m, orgId, true);
      if (!key)
        throw new DomainError('invalid_state', 'this organization was erased', 409, { orgId });
      const row = await m.findOneBy(OrgPersonalDataEntity, { orgId });
      const fields = { ...(row?.fields ?? {}) };
      for (const f of BILLING_FIELDS) {
        const v = input[f];
        if (v !== undefined) fields[f] = encryptField(key.key, key.version, orgId, f, v);
      }
      await m.save(OrgPersonalDataEntity, { orgId, fields, updatedAt: this.clock.now() });
    });
    return this.read(this.db.manager, orgId);
  }

  private async read(m: EntityManager, orgId: string): Promise<BillingProfileView> {
    const row = await m.findOneBy(OrgPersonalDataEntity, { orgId });
    const shredded = await m.existsBy(OrgDataKeyEntity, { orgId, shreddedAt: Not(IsNull()) });
    if (!row || shredded) return { shredded };
    const out: BillingProfileView = { shredded: false };
    const keys = new Map<number, Buffer | null>();
    for (const f of BILLING_FIELDS) {
      const stored = row.fields[f];
      if (stored === undefined) continue;
      const version = fieldVersion(stored);
      if (!keys.has(version)) keys.set(version, await this.keyOfVersion(m, orgId, version));
      const key = keys.get(version);
      if (key) out[f] = decryptField(key, orgId, f, stored);
    }
    return out;
  }

  /** The caller's own billing profile. */
  ownBillingProfile(orgId: string): Promise<BillingProfileView> {
    return this.read(this.db.manager, orgId);
  }

  /** An operator reads another organization's personal data: logged first, in one transaction. */
  async operatorRead(p: Principal, orgId: string, purpose: string): Promise<BillingProfileView> {
    return this.db.transaction(async (m) => {
      if (!(await m.existsBy(OrganizationEntity, { id: orgId }))) {
        throw notFound('organization', { id: orgId });
      }
      const view = await this.read(m, orgId);
      const fields = BILLING_FIELDS.filter((f) => view[f] !== undefined);
      await m.insert(PersonalDataAccessEntity, {
        subjectOrgId: orgId,
        readerUserId: p.userId,
        readerOrgId: p.orgId,
        fields,
        purpose,
        outcome: view.shredded ? 'shredded' : fields.length === 0 ? 'empty' : 'read',
        at: this.clock.now(),
      });
      return view;
    });
  }

  /** The access log, newest first (operators; optionally for one organization). */
  async accessLog(subjectOrgId?: string): Promise<AccessLogView[]> {
    const rows = await this.db.getRepository(PersonalDataAccessEntity).find({
      where: subjectOrgId ? { subjectOrgId } : {},
      order: { at: 'DESC' },
      take: 500,
    });
    return rows.map((r) => ({
      id: r.id,
      subjectOrgId: r.subjectOrgId,
      readerUserId: r.readerUserId,
      readerOrgId: r.readerOrgId,
      fields: r.fields,
      purpose: r.purpose,
      outcome: r.outcome,
      at: r.at.toISOString(),
    }));
  }

  /**
   * Rotates the organization's data key: a new version, every field re-encrypted under it,
   * the old key destroyed. Returns the new version.
   */
  async rotateDataKey(orgId: string): Promise<{ version: number; fields: number }> {
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`privacy:${orgId}`]);
      const view = await this.read(m, orgId);
      if (view.shredded)
        throw new DomainError('invalid_state', 'this organization was erased', 409, { orgId });
      const last = await m.findOne(OrgDataKeyEntity, {
        where: { orgId },
        order: { version: 'DESC' },
      });
      await m.delete(OrgDataKeyEntity, { orgId });
      const version = (last?.version ?? 0) + 1;
      const key = { version, key: randomBytes(32) };
      const { masterKeyId, wrapped } = this.wrap(orgId, version, key.key);
      await m.insert(OrgDataKeyEntity, {
        orgId,
        version,
        masterKeyId,
        wrappedKey: wrapped,
        active: true,
      });
      const row = await m.findOneBy(OrgPersonalDataEntity, { orgId });
      const fields: Record<string, string> = {};
      for (const f of BILLING_FIELDS) {
        const v = view[f];
        if (v !== undefined) fields[f] = encryptField(key.key, key.version, orgId, f, v);
      }
      if (row) await m.save(OrgPersonalDataEntity, { orgId, fields, updatedAt: this.clock.now() });
      return { version: key.version, fields: Object.keys(fields).length };
    });
  }

  /** Re-wraps every data key not wrapped by the current master key (after a master rotation). */
  async rewrapDataKeys(): Promise<{ rewrapped: number; masterKeyId: string }> {
    const current = this.masters[0].id;
    return this.db.transaction(async (m) => {
      const rows = await m.find(OrgDataKeyEntity, {
        where: { masterKeyId: Not(current), wrappedKey: Not(IsNull()) },
        lock: { mode: 'pessimistic_write' },
      });
      for (const r of rows) {
        const { masterKeyId, wrapped } = this.wrap(r.orgId, r.version, this.unwrap(r));
        await m.update(
          OrgDataKeyEntity,
          { orgId: r.orgId, version: r.version },
          { masterKeyId, wrappedKey: wrapped },
        );
      }
      return { rewrapped: rows.length, masterKeyId: current };
    });
  }

  /**
   * Erases an organization (crypto-shredding): its data keys are destroyed, so its encrypted
   * personal data can never be read again; the plaintext identifiers the account tables keep
   * for logging in are overwritten and its sessions revoked. Ledger, invoices and the
   * settlement log are untouched (they hold ids and pseudonyms, not personal data): the books
   * still balance and the log still verifies. Idempotent.
   */
  async erase(orgId: string): Promise<{ orgId: string; shreddedKeys: number }> {
    return this.db.transaction(async (m) => {
      if (!(await m.existsBy(OrganizationEntity, { id: orgId }))) {
        throw notFound('organization', { id: orgId });
      }
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`privacy:${orgId}`]);
      const now = this.clock.now();
      const existing = await m.countBy(OrgDataKeyEntity, { orgId });
      if (existing === 0) {
        // Nothing was ever encrypted: record a tombstone key so that the erasure is known.
        await m.insert(OrgDataKeyEntity, {
          orgId,
          version: 1,
          masterKeyId: this.masters[0].id,
          wrappedKey: null,
          active: false,
          shreddedAt: now,
        });
      }
      const shredded = await m.update(
        OrgDataKeyEntity,
        { orgId, shreddedAt: IsNull() },
        { wrappedKey: null, active: false, shreddedAt: now },
      );
      await m.query(
        `UPDATE users SET email = 'erased-' || id || '@invalid', display_name = '',
                password_hash = '!erased' WHERE org_id = $1`,
        [orgId],
      );
      await m.query(
        `UPDATE refresh_tokens SET revoked_at = $2
         WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE org_id = $1)`,
        [orgId, now],
      );
      await m.query(`UPDATE organizations SET name = '(erased)' WHERE id = $1`, [orgId]);
      return { orgId, shreddedKeys: existing === 0 ? 1 : (shredded.affected ?? 0) };
    });
  }
}
