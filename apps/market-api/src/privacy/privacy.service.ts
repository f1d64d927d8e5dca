import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, Not, type EntityManager } from 'typeorm';
import type { BillingProfile } from '@suanli/contracts';
import type { Principal } from '../auth/auth.decorators.js';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { OrganizationEntity, UserEntity } from '../database/accounts.entities.js';
import {
  OrgDataKeyEntity,
  OrgPersonalDataEntity,
  PersonalDataAccessEntity,
} from './privacy.entities.js';
import { decryptField, encryptField, fieldVersion, open, seal } from './field-cipher.js';
import type { MasterKey } from '../config/secret-keys.js';

export const BILLING_FIELDS = [
  'legalName',
  'billingEmail',
  'address',
  'taxId',
  'stripeCustomerId',
] as const;

/** AAD field names of a member's encrypted e-mail and display name (bound to the user id). */
export const userFieldName = (userId: string, field: 'email' | 'displayName'): string =>
  `user/${userId}/${field}`;

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

  /**
   * Encrypts personal data kept outside the billing profile (e.g. a member's e-mail) under the
   * organization's active data key, created on first use. `field` names the value (it is bound
   * into the AAD with the organization). Run it in the transaction that stores the values.
   */
  async sealFields(
    m: EntityManager,
    orgId: string,
    values: Record<string, string>,
  ): Promise<Record<string, string>> {
    await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`privacy:${orgId}`]);
    const key = await this.activeKey(m, orgId, true);
    if (!key)
      throw new DomainError('invalid_state', 'this organization was erased', 409, { orgId });
    const out: Record<string, string> = {};
    for (const [field, v] of Object.entries(values)) {
      out[field] = encryptField(key.key, key.version, orgId, field, v);
    }
    return out;
  }

  /**
   * Decrypts what {@link sealFields} stored; a value whose key was shredded (or that is null)
   * is left out. Keys are unwrapped once per call.
   */
  async openFields(
    m: EntityManager,
    orgId: string,
    stored: Record<string, string | null>,
  ): Promise<Record<string, string>> {
    const keys = new Map<number, Buffer | null>();
    const out: Record<string, string> = {};
    for (const [field, v] of Object.entries(stored)) {
      if (v === null) continue;
      const version = fieldVersion(v);
      if (!keys.has(version)) keys.set(version, await this.keyOfVersion(m, orgId, version));
      const key = keys.get(version);
      if (key) out[field] = decryptField(key, orgId, field, v);
    }
    return out;
  }

  /** True once the organization was erased (its data keys destroyed). */
  isShredded(m: EntityManager, orgId: string): Promise<boolean> {
    return m.existsBy(OrgDataKeyEntity, { orgId, shreddedAt: Not(IsNull()) });
  }

  /**
   * Writes operators' reads of personal data outside the billing profile (e.g. listings) to
   * the access log, one row per organization whose data was shown.
   */
  async logOperatorReads(
    m: EntityManager,
    p: Principal,
    subjectOrgIds: string[],
    fields: string[],
    purpose: string,
  ): Promise<void> {
    // One's own organization is not another party.
    const others = [...new Set(subjectOrgIds)].filter((id) => id !== p.orgId);
    if (others.length === 0) return;
    const at = this.clock.now();
    await m.insert(
      PersonalDataAccessEntity,
      others.map((subjectOrgId) => ({
        subjectOrgId,
        readerUserId: p.userId,
        readerOrgId: p.orgId,
        fields,
        purpose,
        outcome: 'read' as const,
        at,
      })),
    );
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
      const members = await m.find(UserEntity, { where: { orgId } });
      const plainMembers = await Promise.all(
        members.map(async (u) => ({
          id: u.id,
          plain: await this.openFields(m, orgId, {
            [userFieldName(u.id, 'email')]: u.emailEnc,
            [userFieldName(u.id, 'displayName')]: u.displayNameEnc,
          }),
        })),
      );
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
      let count = Object.keys(fields).length;
      for (const { id, plain } of plainMembers) {
        const sealed = (field: 'email' | 'displayName'): string | null => {
          const name = userFieldName(id, field);
          const v = plain[name];
          if (v === undefined) return null;
          count += 1;
          return encryptField(key.key, key.version, orgId, name, v);
        };
        await m.update(
          UserEntity,
          { id },
          { emailEnc: sealed('email'), displayNameEnc: sealed('displayName') },
        );
      }
      return { version: key.version, fields: count };
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
   * personal data (billing profile, members' e-mails and names) can never be read again; the
   * e-mails' blind index and the password hashes are removed, its sessions revoked and its
   * (public, not personal) organization name overwritten. Ledger, invoices and the
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
      // The encrypted e-mails and names stay, unreadable without the key; the blind index goes
      // too (with the key it would still confirm a guessed address), so the e-mail is free again.
      await m.query(
        `UPDATE users SET email_index = NULL, email = NULL, display_name = NULL,
                password_hash = '!erased' WHERE org_id = $1`,
        [orgId],
      );
      await m.query(
        `UPDATE refresh_tokens SET revoked_at = $2
         WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE org_id = $1)`,
        [orgId, now],
      );
      await m.query(`UPDATE organizations SET name = '(erased)', erased_at = $2 WHERE id = $1`, [
        orgId,
        now,
      ]);
      return { orgId, shreddedKeys: existing === 0 ? 1 : (shredded.affected ?? 0) };
    });
  }
}
