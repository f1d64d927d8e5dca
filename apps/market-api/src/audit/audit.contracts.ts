import { z } from 'zod';
import { isoUtcInstant } from '@suanli/contracts';

/** Query of `GET /v1/admin/audit-events` (newest first). */
export const auditQuerySchema = z.object({
  /** Exact action, e.g. `auth.login`, or a prefix ending in `.` (`api_key.`). */
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]*)?$/)
    .max(64)
    .optional(),
  /** The organization the actions concern. */
  orgId: z.string().uuid().optional(),
  /** Only actions by this user (a UUID). */
  actorUserId: z.string().uuid().optional(),
  /** Only actions that `succeeded`, or only those that `failed` (refused log-ins, denied access). */
  outcome: z.enum(['succeeded', 'failed']).optional(),
  from: isoUtcInstant.optional(),
  to: isoUtcInstant.optional(),
  cursor: z
    .string()
    .regex(/^[\w-]{1,200}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

/** One recorded security-relevant action. */
export interface AuditEventView {
  id: string;
  at: string;
  action: string;
  outcome: 'succeeded' | 'failed';
  actor: { userId: string | null; orgId: string | null; apiKeyId: string | null };
  /** The organization the action concerns. */
  orgId: string | null;
  target: { type: string; id: string } | null;
  ip: string | null;
  correlationId: string | null;
  details: Record<string, unknown>;
}

export interface AuditEventPage {
  items: AuditEventView[];
  nextCursor: string | null;
}
