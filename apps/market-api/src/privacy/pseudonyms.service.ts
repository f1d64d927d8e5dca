import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/auth.decorators.js';
import { notFound } from '../common/errors.js';
import { OrganizationEntity } from '../database/accounts.entities.js';
import { PseudonymSecret } from './pseudonym-secret.js';
import { PrivacyService } from './privacy.service.js';
import { buyerPseudonym, sellerPseudonym } from './pseudonyms.js';

export interface PseudonymView {
  pseudonym: string;
  kind: 'buyer' | 'seller';
  /** The organization behind it. */
  orgId: string;
  /** For a buyer: the organization the pseudonym was shown to. */
  viewerOrgId: string | null;
}

/**
 * Mapping pseudonyms back, which only the platform can do (it holds the HMAC key): the
 * candidates' pseudonyms are recomputed until one matches. Re-identifying a party is a read of
 * its personal data, so it needs a purpose and is written to the access log.
 */
@Injectable()
export class PseudonymsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly pseudonyms: PseudonymSecret,
    private readonly privacy: PrivacyService,
  ) {}

  async resolve(
    p: Principal,
    q: { pseudonym: string; viewer?: string; purpose: string },
  ): Promise<PseudonymView> {
    const secret = this.pseudonyms.pseudonymSecret;
    const kind = q.pseudonym.startsWith('buyer-') ? 'buyer' : 'seller';
    const viewer = q.viewer ?? '';
    const of = (orgId: string): string =>
      kind === 'buyer' ? buyerPseudonym(secret, orgId, viewer) : sellerPseudonym(secret, orgId);
    return this.db.transaction(async (m) => {
      const candidates = await m
        .getRepository(OrganizationEntity)
        .createQueryBuilder('o')
        .select('o.id')
        .where(':kind = ANY(o.roles)', { kind })
        .getMany();
      const match = candidates.find((o) => of(o.id) === q.pseudonym);
      if (!match) throw notFound('pseudonym', { pseudonym: q.pseudonym });
      await this.privacy.logOperatorReads(m, p, [match.id], ['pseudonym'], q.purpose);
      return {
        pseudonym: q.pseudonym,
        kind,
        orgId: match.id,
        viewerOrgId: kind === 'buyer' ? viewer : null,
      };
    });
  }
}
