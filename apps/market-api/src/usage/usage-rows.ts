import { minuteRowsSql } from '@suanli/units';

/**
 * The usage aggregates of one granularity as rows `(lease_id, unit, bucket, quantity)`, to read
 * as `FROM ${usageRows(g)} u`: `usage_hours` has that shape, `usage_minutes` (one row per
 * lease-minute, a column per unit: the ingest's hot write) is unpivoted.
 */
export function usageRows(granularity: 'minute' | 'hour'): string {
  return granularity === 'hour' ? 'usage_hours' : minuteRowsSql();
}
