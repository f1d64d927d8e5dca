import type { ColumnOptions } from 'typeorm';

/** Every quantity and amount is `numeric` in the database and a string in TypeScript. */
export const NUMERIC: ColumnOptions = { type: 'numeric', precision: 38, scale: 9 };
export const TIMESTAMP: ColumnOptions = { type: 'timestamptz' };
