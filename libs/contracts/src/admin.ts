import { z } from 'zod';
import type { Role } from './api.js';

// ---------- operator: members and fees ----------

/** `GET /v1/admin/organizations`: every organization with its roles and members. */
export interface AdminOrganizationView {
  id: string;
  name: string;
  roles: Role[];
  industry: string;
  members: number;
  createdAt: string;
}

export const adminOrganizationsQuerySchema = z.object({
  role: z.enum(['buyer', 'seller', 'assessor', 'operator']).optional(),
  q: z.string().trim().max(100).optional(),
  /** Why the operator lists them: written to the access log (default `organization listing`). */
  purpose: z.string().min(3).max(200).optional(),
});

/** `PUT /v1/admin/fees`: the platform take rate (a fraction of each debit note's gross). */
export const setFeesSchema = z
  .object({
    takeRate: z
      .string()
      .regex(/^0(\.\d{1,6})?$/, 'must be a decimal fraction below 1 such as "0.05"'),
    note: z.string().trim().max(500).optional(),
  })
  .strict();
export type SetFeesRequest = z.infer<typeof setFeesSchema>;

export interface FeeChangeView {
  takeRate: string;
  effectiveFrom: string;
  note: string;
  setByUserId: string | null;
}

/** `GET /v1/admin/fees`: the rate new leases get, where it comes from, and past changes. */
export interface FeesView {
  takeRate: string;
  source: 'schedule' | 'default';
  history: FeeChangeView[];
}
