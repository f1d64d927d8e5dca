import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDataSource, withDatabase } from '../../tools/db/data-source.js';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own for one test suite, on the PostgreSQL that
 * `npm test` started (DATABASE_URL). Suites never share rows, so they may run in parallel.
 */
export async function createTestDatabase(
  opts: {
    /** The sessions' TimeZone (ALTER DATABASE … SET TimeZone), e.g. 'Asia/Kolkata'. */
    timeZone?: string;
  } = {},
): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the tests with `npm test`');
  const name = `suanli_t_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    if (opts.timeZone) {
      await admin.query(`ALTER DATABASE ${name} SET TimeZone = ${pg.escapeLiteral(opts.timeZone)}`);
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(base, name);
  const ds = createDataSource(url, { poolSize: 1 });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
