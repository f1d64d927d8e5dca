/** What to record for one audited route. */
export interface AuditRule {
  action: string;
  targetType?: string;
  /** Where the target id comes from. */
  target?: (c: AuditContext) => string | undefined;
  /** The organization the action concerns (default: the actor's). */
  org?: (c: AuditContext) => string | undefined;
  details?: (c: AuditContext) => Record<string, unknown>;
  /** Also record refusals (e.g. a failed log-in). */
  failures?: boolean;
  /** The actor comes from the response (log-in, sign-up: there is no token yet). */
  actorFromResult?: boolean;
  /**
   * The handler records its success itself, in the transaction of its effect (money moved), so
   * that the effect is never committed without its event; the interceptor records refusals only.
   */
  handlerRecordsSuccess?: boolean;
}

export interface AuditContext {
  params: Record<string, string>;
  body: Record<string, unknown>;
  result: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const nested = (o: unknown, k: string): Record<string, unknown> =>
  o && typeof o === 'object'
    ? (((o as Record<string, unknown>)[k] ?? {}) as Record<string, unknown>)
    : {};

/**
 * The audited routes, keyed by `METHOD <express route path>`. Any other POST, PUT, PATCH or
 * DELETE under /v1/admin/ is recorded too, as `admin.<method> <path>` (see AuditInterceptor).
 */
export const AUDIT_RULES: Record<string, AuditRule> = {
  'POST /v1/auth/login': {
    action: 'auth.login',
    failures: true,
    actorFromResult: true,
    details: (c) => ({ email: c.body.email }),
  },
  'POST /v1/auth/signup': {
    action: 'auth.signup',
    actorFromResult: true,
    targetType: 'organization',
    target: (c) => str(nested(c.result, 'organization').id),
    details: (c) => ({ email: c.body.email, roles: nested(c.body, 'organization').roles }),
  },
  'POST /v1/api-keys': {
    action: 'api_key.created',
    targetType: 'api_key',
    target: (c) => str(c.result.id),
    details: (c) => ({ name: c.result.name, prefix: c.result.prefix, scopes: c.result.scopes }),
  },
  'DELETE /v1/api-keys/:id': {
    action: 'api_key.revoked',
    targetType: 'api_key',
    target: (c) => c.params.id,
    details: (c) => ({ prefix: c.result.prefix }),
  },
  'POST /v1/admin/organizations': {
    action: 'organization.created',
    targetType: 'organization',
    target: (c) => str(nested(c.result, 'organization').id),
    org: (c) => str(nested(c.result, 'organization').id),
    details: (c) => ({ roles: nested(c.body, 'organization').roles, email: c.body.email }),
  },
  'POST /v1/admin/organizations/:id/roles': {
    action: 'organization.roles_changed',
    targetType: 'organization',
    target: (c) => c.params.id,
    org: (c) => c.params.id,
    details: (c) => ({ granted: c.body.roles, roles: c.result.roles }),
  },
  'POST /v1/admin/payouts/run': { action: 'payouts.run', details: (c) => c.result },
  'PUT /v1/admin/fees': { action: 'fees.changed', details: (c) => ({ request: c.body }) },
  // The credit writes its own success event in its transaction (OperatorCreditsService): here
  // only the refusals (not test mode, unknown or non-buyer organization, bad input).
  'POST /v1/admin/wallets/:orgId/credits': {
    action: 'wallet.credited',
    targetType: 'organization',
    target: (c) => c.params.orgId,
    org: (c) => c.params.orgId,
    details: (c) => ({ request: c.body }),
    failures: true,
    handlerRecordsSuccess: true,
  },
  'POST /v1/wallet/refunds': { action: 'wallet.refund_requested', details: (c) => c.body },
  'POST /v1/earnings/connect-account': { action: 'payout_account.connected' },
  'POST /v1/admin/assessors/:orgId/accreditation': {
    action: 'assessor.accreditation_changed',
    targetType: 'organization',
    target: (c) => c.params.orgId,
    org: (c) => c.params.orgId,
    details: (c) => ({ level: c.body.level }),
  },
  'POST /v1/assessors/me/keys': { action: 'assessor_key.registered', details: (c) => c.result },
  'POST /v1/assessors/me/keys/rotate': {
    action: 'assessor_key.rotated',
    details: (c) => c.result,
  },
  'POST /v1/assessors/me/keys/:kid/retire': {
    action: 'assessor_key.retired',
    targetType: 'assessor_key',
    target: (c) => c.params.kid,
  },
  'POST /v1/resources/:id/agents': {
    action: 'agent.enrolled',
    targetType: 'resource',
    target: (c) => c.params.id,
    details: (c) => ({ agentId: c.result.id, kid: c.result.kid }),
  },
};
