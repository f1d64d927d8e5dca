import { Injectable } from '@nestjs/common';
import { jwtVerify, SignJWT } from 'jose';
import { ROLES, type Role } from '@suanli/contracts';
import { AppConfig } from '../config/app-config.js';
import { unauthenticated } from '../common/errors.js';
import type { Principal } from './auth.decorators.js';
import { PlatformKeys } from './platform-keys.js';

export const TOKEN_AUDIENCE = 'suanli-market';

/** Short-lived EdDSA access tokens, signed and verified with jose. */
@Injectable()
export class TokensService {
  constructor(
    private readonly keys: PlatformKeys,
    private readonly config: AppConfig,
  ) {}

  get issuer(): string {
    return `suanli:${this.config.platformCode}`;
  }

  async issueAccessToken(p: Principal): Promise<string> {
    return new SignJWT({ org: p.orgId, roles: p.roles })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.keys.kid, typ: 'at+jwt' })
      .setSubject(p.userId)
      .setIssuer(this.issuer)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.config.accessTokenTtl}s`)
      .sign(this.keys.privateKey);
  }

  async verifyAccessToken(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.keys.publicKey, {
        issuer: this.issuer,
        audience: TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
        // a token without an expiry would never expire
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(String(r)))
        : [];
      if (typeof payload.sub !== 'string' || typeof payload.org !== 'string')
        throw new Error('claims');
      return { userId: payload.sub, orgId: payload.org, roles };
    } catch {
      throw unauthenticated('the access token is invalid or expired');
    }
  }
}
