import { UNIT_CODES, type UnitCode } from './catalog.js';

/**
 * The column of each unit in the wide usage aggregates (`usage_minutes`: one row per lease and
 * minute, a numeric column per unit): the code with `.` as `_`. A unit added to UNIT_CODES needs
 * its column (a migration) before it can be metered.
 */
export const UNIT_COLUMNS: Readonly<Record<UnitCode, string>> = Object.freeze(
  Object.fromEntries(UNIT_CODES.map((u) => [u, u.replace('.', '_')])) as Record<UnitCode, string>,
);

/**
 * `usage_minutes` as rows `(lease_id, unit, bucket, quantity)`, to read as `FROM (…) u`: the unit
 * columns unpivoted, units not reported in a minute (NULL) left out. PostgreSQL flattens it, so a
 * filter on `u.lease_id` or a `u.bucket` range still uses the table's primary key.
 */
export function minuteRowsSql(): string {
  const values = UNIT_CODES.map((c) => `('${c}', m.${UNIT_COLUMNS[c]})`).join(', ');
  return `(SELECT m.lease_id, x.unit, m.bucket, x.quantity FROM usage_minutes m
      CROSS JOIN LATERAL (VALUES ${values}) AS x(unit, quantity) WHERE x.quantity IS NOT NULL)`;
}
