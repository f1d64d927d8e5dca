import { z } from 'zod';

/** Error codes of platform-to-platform calls (docs/federation.md). */
export const FEDERATION_ERROR_CODES = [
  'upstream_unreachable',
  'hop_limit_exceeded',
  /** A status report that does not verify (signature, issuer, age). */
  'invalid_report',
] as const;

const code = z.string().regex(/^\d{2,4}\.[NRI][0-9A-Z]{2}$/, 'must be a platform code like 86.R03');

/** The national operator admits a platform: its code, name, URL and key thumbprints. */
export const admitPlatformSchema = z.object({
  code,
  name: z.string().trim().min(1).max(200),
  url: z.string().url().max(500),
  thumbprints: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an RFC 7638 SHA-256 thumbprint'))
    .min(1)
    .max(10),
});
export type AdmitPlatformInput = z.infer<typeof admitPlatformSchema>;

/** The joining platform's signed join request (a compact JWS). */
export const joinPlatformSchema = z.object({ request: z.string().min(1).max(20_000) });

/** A member platform's signed status report (a compact JWS) to the national platform. */
export const statusReportSchema = z.object({ report: z.string().min(1).max(200_000) });
