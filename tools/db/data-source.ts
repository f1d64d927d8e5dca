import { DataSource } from 'typeorm';
import { ENTITIES } from '../../apps/market-api/src/entities.js';
import { MIGRATIONS } from '../../migrations/index.js';

/** The DataSource used by the app, the migration runner and the migration generator. */
export function createDataSource(url: string, opts: { poolSize?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    poolSize: opts.poolSize ?? 10,
    logging: ['error'],
  });
}

/** `url` with its database replaced by `db`. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
