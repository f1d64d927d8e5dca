import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { DomainError } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { UserEntity } from '../database/accounts.entities.js';
import { emailBlindIndex, normalizeEmail } from '../privacy/blind-index.js';
import { PrivacyService, userFieldName } from '../privacy/privacy.service.js';

/** A member with its personal data decrypted ('' once its organization was erased). */
export interface UserRecord {
  id: string;
  orgId: string;
  email: string;
  displayName: string;
  passwordHash: string;
}

const emailTaken = () =>
  new DomainError('conflict', 'an account with this e-mail already exists', 409, {
    field: 'email',
  });

/**
 * Members, whose e-mail and display name are stored only encrypted under their organization's
 * data key; an e-mail is found (and kept unique) through its blind index. The only place that
 * reads or writes those columns.
 */
@Injectable()
export class UsersRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly privacy: PrivacyService,
  ) {}

  private index(email: string): string {
    return emailBlindIndex(this.config.emailIndexKey, email);
  }

  async emailExists(m: EntityManager, email: string): Promise<boolean> {
    return m.existsBy(UserEntity, { emailIndex: this.index(email) });
  }

  /** Inserts a member; a second account with the same e-mail is a 409 (unique blind index). */
  async create(
    m: EntityManager,
    u: { orgId: string; email: string; displayName: string; passwordHash: string },
  ): Promise<UserRecord> {
    if (await this.emailExists(m, u.email)) throw emailTaken();
    const id = randomUUID();
    const email = normalizeEmail(u.email);
    const sealed = await this.privacy.sealFields(m, u.orgId, {
      [userFieldName(id, 'email')]: email,
      [userFieldName(id, 'displayName')]: u.displayName,
    });
    try {
      await m.insert(UserEntity, {
        id,
        orgId: u.orgId,
        emailIndex: this.index(email),
        emailEnc: sealed[userFieldName(id, 'email')],
        displayNameEnc: sealed[userFieldName(id, 'displayName')],
        passwordHash: u.passwordHash,
      });
    } catch (e) {
      // A concurrent sign-up with the same e-mail won the race to the unique blind index.
      if (e instanceof QueryFailedError && (e.driverError as { code?: string }).code === '23505') {
        throw emailTaken();
      }
      throw e;
    }
    return { id, orgId: u.orgId, email, displayName: u.displayName, passwordHash: u.passwordHash };
  }

  findByEmail(email: string, m: EntityManager = this.db.manager): Promise<UserRecord | null> {
    return this.one(m, { emailIndex: this.index(email) });
  }

  findById(id: string, m: EntityManager = this.db.manager): Promise<UserRecord | null> {
    return this.one(m, { id });
  }

  private async one(
    m: EntityManager,
    where: { id: string } | { emailIndex: string },
  ): Promise<UserRecord | null> {
    const row = await m.findOneBy(UserEntity, where);
    return row ? this.decrypt(m, row) : null;
  }

  private async decrypt(m: EntityManager, row: UserEntity): Promise<UserRecord> {
    const email = userFieldName(row.id, 'email');
    const name = userFieldName(row.id, 'displayName');
    const plain = await this.privacy.openFields(m, row.orgId, {
      [email]: row.emailEnc,
      [name]: row.displayNameEnc,
    });
    return {
      id: row.id,
      orgId: row.orgId,
      email: plain[email] ?? '',
      displayName: plain[name] ?? '',
      passwordHash: row.passwordHash,
    };
  }

  /**
   * Encrypts rows stored before field encryption (plaintext `email` / `display_name`) and
   * empties their plaintext. Runs at start-up: a migration cannot, as it has no keys.
   * Idempotent and safe with several API processes starting at once (rows are claimed with
   * SKIP LOCKED). Rows of erased organizations just lose their plaintext. Returns the count.
   */
  async backfillPlaintext(batch = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.db.transaction(async (m) => {
        const rows = (await m.query(
          `SELECT id, org_id, email, display_name FROM users
           WHERE email IS NOT NULL OR display_name IS NOT NULL
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [batch],
        )) as { id: string; org_id: string; email: string | null; display_name: string | null }[];
        for (const r of rows) {
          const email = r.email === null ? null : normalizeEmail(r.email);
          if (email === null || (await this.privacy.isShredded(m, r.org_id))) {
            await m.update(
              UserEntity,
              { id: r.id },
              { legacyEmail: null, legacyDisplayName: null, emailIndex: null },
            );
            continue;
          }
          const sealed = await this.privacy.sealFields(m, r.org_id, {
            [userFieldName(r.id, 'email')]: email,
            [userFieldName(r.id, 'displayName')]: r.display_name ?? '',
          });
          await m.update(
            UserEntity,
            { id: r.id },
            {
              emailIndex: this.index(email),
              emailEnc: sealed[userFieldName(r.id, 'email')],
              displayNameEnc: sealed[userFieldName(r.id, 'displayName')],
              legacyEmail: null,
              legacyDisplayName: null,
            },
          );
        }
        return rows.length;
      });
      total += n;
      if (n < batch) return total;
    }
  }
}
