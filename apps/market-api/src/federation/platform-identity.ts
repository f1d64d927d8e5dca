import { Injectable } from '@nestjs/common';
import { jwkThumbprint, type JWK } from '@suanli/crypto';
import { levelOfCode, type DirectoryEntry } from '@suanli/federation';
import { PlatformKeys } from '../auth/platform-keys.js';
import { AppConfig } from '../config/app-config.js';
import { FederationConfig } from './federation.config.js';

/** This platform as the federation sees it: code, level, URL, keys, and its private signing JWK. */
@Injectable()
export class PlatformIdentity {
  readonly code: string;
  readonly privateJwk: JWK;

  constructor(
    config: AppConfig,
    private readonly keys: PlatformKeys,
    private readonly federation: FederationConfig,
  ) {
    this.code = config.platformCode;
    this.privateJwk = JSON.parse(config.platformSigningJwk) as JWK;
    this.url = federation.publicUrl ?? config.publicUrl ?? `http://${config.host}:${config.port}`;
  }

  readonly url: string;

  get isNational(): boolean {
    return levelOfCode(this.code) === 'national' && this.code === this.federation.nationalCode;
  }

  /** Public keys: the current one first, then retired ones (still verify old signatures). */
  publicKeys(): JWK[] {
    return this.keys.jwks().keys;
  }

  async entry(): Promise<DirectoryEntry> {
    const keys = this.publicKeys();
    return {
      code: this.code,
      level: levelOfCode(this.code),
      name: this.federation.name ?? `Platform ${this.code}`,
      url: this.url,
      keys,
      thumbprints: await Promise.all(keys.map((k) => jwkThumbprint(k))),
      state: 'active',
    };
  }
}
