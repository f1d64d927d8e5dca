export { FederationError, type FederationErrorCode } from './errors.js';
export {
  CLOCK_SKEW_SECONDS,
  DIRECTORY_TYPE,
  directoryRefreshAt,
  entryOf,
  levelOfCode,
  PLATFORM_CODE,
  PLATFORM_LEVELS,
  PLATFORM_STATES,
  signDirectory,
  verifyDirectory,
  type Directory,
  type DirectoryEntry,
  type PlatformLevel,
  type PlatformState,
} from './directory.js';
export {
  ASSERTION_MAX_LIFETIME_SECONDS,
  signAssertion,
  verifyAssertion,
  type AssertionClaims,
} from './assertion.js';
export {
  JOIN_MAX_AGE_SECONDS,
  JOIN_TYPE,
  signJoinRequest,
  verifyJoinRequest,
  type JoinRequest,
} from './join.js';
export {
  authorityOf,
  hopsOf,
  HOPS_HEADER,
  RESOLUTION_FRESH_MS,
  RESOLUTION_HOP_LIMIT,
  RESOLUTION_STALE_MS,
  RESOLUTION_TYPE,
  resolutionCacheState,
  signResolutionRecord,
  verifyResolutionRecord,
  type CacheState,
  type ResolutionRecord,
} from './resolution.js';
export { epochSeconds } from './jws-payload.js';
export {
  aggregateSnapshots,
  marketSnapshotSchema,
  reportIsStale,
  share,
  signStatusReport,
  STATUS_REPORT_MAX_AGE_SECONDS,
  STATUS_REPORT_TYPE,
  verifyStatusReport,
  type MarketAggregate,
  type MarketSnapshot,
  type StatusReport,
} from './status-report.js';
