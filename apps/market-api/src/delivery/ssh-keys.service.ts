import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SshKeyView } from '@suanli/contracts';
import { CryptoError, parseSshPublicKey } from '@suanli/crypto';
import { DomainError, notFound } from '../common/errors.js';
import { SshKeyEntity } from './delivery.entities.js';

const MAX_KEYS = 20;

/** A buyer organization's SSH public keys: what SSH leases authorize (docs/delivery.md). */
@Injectable()
export class SshKeysService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(orgId: string): Promise<SshKeyView[]> {
    const rows = await this.db
      .getRepository(SshKeyEntity)
      .find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(view);
  }

  /** Validated by parseSshPublicKey; a key already on the profile is a 409. */
  async add(orgId: string, input: { name: string; publicKey: string }): Promise<SshKeyView> {
    let key;
    try {
      key = parseSshPublicKey(input.publicKey);
    } catch (e) {
      if (e instanceof CryptoError) {
        throw new DomainError('validation_failed', `publicKey: ${e.message}`, 400, {
          field: 'publicKey',
        });
      }
      throw e;
    }
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ssh-keys:${orgId}`]);
      if ((await m.countBy(SshKeyEntity, { orgId })) >= MAX_KEYS) {
        throw new DomainError('conflict', `at most ${MAX_KEYS} SSH keys per organization`, 409);
      }
      if (await m.existsBy(SshKeyEntity, { orgId, fingerprint: key.fingerprint })) {
        throw new DomainError('conflict', 'this key is already on the profile', 409, {
          field: 'publicKey',
          fingerprint: key.fingerprint,
        });
      }
      return view(
        await m.getRepository(SshKeyEntity).save({
          orgId,
          name: input.name,
          publicKey: key.line,
          fingerprint: key.fingerprint,
        }),
      );
    });
  }

  async remove(orgId: string, id: string): Promise<void> {
    const r = await this.db.getRepository(SshKeyEntity).delete({ id, orgId });
    if (!r.affected) throw notFound('ssh key');
  }
}

const view = (k: SshKeyEntity): SshKeyView => ({
  id: k.id,
  name: k.name,
  publicKey: k.publicKey,
  fingerprint: k.fingerprint,
  createdAt: k.createdAt.toISOString(),
});
