// Per-lease bearer tokens for the HTTP forms (API gateway, job API): only a SHA-256 of each
// token is kept (memory and the state file), looked up by hash and compared in constant time
// (docs/delivery.md, "Tokens").
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WriteQueue, writeFileAtomic } from './host.js';
import { checkLeaseId, concurrencyOf, type LeaseGrant } from './provisioner.js';

export interface TokenRecord {
  leaseId: string;
  /** Hex SHA-256 of the token. */
  hash: string;
  state: 'active' | 'suspended';
  /** Requests (or jobs) the lease may run at once: its slots. */
  concurrency: number;
  issuedAt: string;
}

/** `sl_` + 32 random bytes (base64url): 46 characters, 256 bits. */
export function newToken(): string {
  return `sl_${randomBytes(32).toString('base64url')}`;
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,200})$/;

export class TokenStore {
  private readonly byLease = new Map<string, TokenRecord>();
  private readonly byHash = new Map<string, TokenRecord>();
  private readonly writes = new WriteQueue();
  private loaded = false;

  /** `file`: where the records persist (JSON, mode 0600, replaced atomically); none: memory only. */
  constructor(private readonly file?: string) {}

  async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    if (this.file === undefined) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const r of JSON.parse(text) as TokenRecord[]) this.put(r);
  }

  /** Issues a new token for the lease (replacing any earlier one, which stops working). */
  async issue(lease: Pick<LeaseGrant, 'leaseId' | 'slots'>): Promise<string> {
    await this.load();
    checkLeaseId(lease.leaseId);
    const token = newToken();
    this.put({
      leaseId: lease.leaseId,
      hash: hashOf(token).toString('hex'),
      state: 'active',
      concurrency: concurrencyOf(lease),
      issuedAt: new Date().toISOString(),
    });
    await this.save();
    return token;
  }

  /** Sets the lease's state; false when the lease has no token. */
  async setState(leaseId: string, state: TokenRecord['state']): Promise<boolean> {
    await this.load();
    const r = this.byLease.get(leaseId);
    if (r === undefined) return false;
    if (r.state !== state) {
      this.put({ ...r, state });
      await this.save();
    }
    return true;
  }

  async remove(leaseId: string): Promise<void> {
    await this.load();
    const r = this.byLease.get(leaseId);
    if (r === undefined) return;
    this.byLease.delete(leaseId);
    this.byHash.delete(r.hash);
    await this.save();
  }

  get(leaseId: string): TokenRecord | undefined {
    return this.byLease.get(leaseId);
  }

  all(): TokenRecord[] {
    return [...this.byLease.values()];
  }

  /**
   * The record of the `Authorization: Bearer …` header's token, or undefined. The hash is
   * looked up, then compared in constant time (a map hit on a hash tells nothing of the token).
   */
  authenticate(authorization: string | undefined): TokenRecord | undefined {
    const m = authorization === undefined ? null : BEARER.exec(authorization);
    if (m === null) return undefined;
    const hash = hashOf(m[1]);
    const r = this.byHash.get(hash.toString('hex'));
    if (r === undefined) return undefined;
    return timingSafeEqual(Buffer.from(r.hash, 'hex'), hash) ? r : undefined;
  }

  private put(r: TokenRecord): void {
    const old = this.byLease.get(r.leaseId);
    if (old !== undefined) this.byHash.delete(old.hash);
    this.byLease.set(r.leaseId, r);
    this.byHash.set(r.hash, r);
  }

  /** Writes the records (serialized; temporary file + rename, so a crash leaves old or new). */
  private save(): Promise<void> {
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    const body = JSON.stringify(this.all());
    return this.writes.push(() => writeFileAtomic(file, body));
  }
}
