// Applies pending migrations to DATABASE_URL (`npm run db:migrate`).
import { createDataSource } from './data-source.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required');
  process.exit(2);
}
const ds = createDataSource(url, { poolSize: 2 });
await ds.initialize();
const applied = await ds.runMigrations({ transaction: 'each' });
await ds.destroy();
console.log(
  applied.length ? `applied ${applied.map((m) => m.name).join(', ')}` : 'database is up to date',
);
