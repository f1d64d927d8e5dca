import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { WalletView } from '@suanli/contracts';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/auth.decorators.js';
import { DomainError, invalidState, notFound } from '../common/errors.js';
import { answerInTransaction } from '../idempotency/idempotency.interceptor.js';
import { OrganizationEntity } from '../database/accounts.entities.js';
import { WalletService } from '../ledger/wallet.service.js';
import { PaymentsConfig } from './payments.config.js';

export interface OperatorCreditView {
  transactionId: string;
  testMode: true;
  wallet: WalletView;
}

/** Where the request came from, for the audit event written with the credit. */
export interface RequestOrigin {
  ip: string | null;
  correlationId: string | null;
}

/**
 * Operator credits: test-mode funding (no real money) of a buyer's wallet. They exist only in
 * test mode: once Stripe is configured, money enters wallets through paid top-ups and nothing
 * else, so an operator cannot mint it (#18). Only an existing, not erased buyer organization
 * has a wallet to credit. The credit, its audit event and the request's answer commit in one
 * transaction: there is no credit without its audit record.
 */
@Injectable()
export class OperatorCreditsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly wallets: WalletService,
    private readonly audit: AuditService,
    private readonly config: PaymentsConfig,
  ) {}

  credit(
    p: Principal,
    orgId: string,
    input: { currency: string; amount: string; memo?: string },
    idempotencyKey: string | undefined,
    origin: RequestOrigin,
  ): Promise<OperatorCreditView> {
    if (!this.config.testMode) {
      throw new DomainError(
        'forbidden',
        'operator credits exist only in test mode: with Stripe configured, wallets are funded by paid top-ups',
        403,
      );
    }
    return this.db.transaction(async (m) => {
      // A share lock: the organization cannot be erased or lose its role meanwhile.
      const org = await m
        .getRepository(OrganizationEntity)
        .findOne({ where: { id: orgId }, lock: { mode: 'pessimistic_read' } });
      if (!org) throw notFound('organization', { id: orgId });
      if (org.erasedAt) throw invalidState('this organization was erased', { orgId });
      if (!org.roles.includes('buyer')) {
        throw invalidState('only a buyer organization has a wallet to credit', {
          field: 'orgId',
          roles: org.roles,
        });
      }
      // The interceptor replays retries; the reference makes the posting itself idempotent too.
      const reference = `test-credit:${p.orgId}:${orgId}:${idempotencyKey ?? randomUUID()}`;
      const memo = `test-mode funding${input.memo ? `: ${input.memo}` : ''}`;
      const posted = await this.wallets.creditIn(
        m,
        orgId,
        input.currency,
        input.amount,
        reference,
        memo,
      );
      if (!posted.duplicate) {
        await this.audit.record(
          {
            action: 'wallet.credited',
            actorUserId: p.userId,
            actorOrgId: p.orgId,
            orgId,
            targetType: 'organization',
            targetId: orgId,
            ip: origin.ip,
            correlationId: origin.correlationId,
            details: { request: input, transactionId: posted.transactionId, testMode: true },
          },
          m,
        );
      }
      // Read in the same transaction, which also commits the answer (crash safety).
      const wallet = await this.wallets.view(orgId, m);
      return answerInTransaction({
        transactionId: posted.transactionId,
        testMode: true as const,
        wallet,
      });
    });
  }
}
