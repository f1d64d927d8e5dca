// Compares the constraints and indexes of two databases as PostgreSQL itself describes them
// (pg_get_constraintdef, pg_get_indexdef): one built by the migrations, one synchronized from the
// entities. TypeORM's own diff matches unique constraints and indexes by name only, so a
// constraint whose columns changed in the entity but not in a migration went unnoticed
// (`uq_debit_note_period`; docs/decisions.md, "Schema check: constraints and indexes too").
import pg from 'pg';
import { createDataSource, withDatabase } from './data-source.js';

/** One constraint or index: where it lives, its name and its definition. */
export interface SchemaObject {
  kind: 'constraint' | 'index';
  table: string;
  name: string;
  definition: string;
}

export interface SchemaDifference {
  kind: SchemaObject['kind'];
  table: string;
  name: string;
  /** The definition the migrations built (null: missing there). */
  migrations: string | null;
  /** The definition the entities describe (null: not declared by any entity). */
  entities: string | null;
}

// Constraints (primary keys, uniques, foreign keys, checks, exclusions) and the indexes that do
// not implement one, of the public schema's tables, except the migration runner's own table.
const OBJECTS_SQL = `
  SELECT 'constraint' AS kind, t.relname AS "table", c.conname AS name,
         pg_get_constraintdef(c.oid) AS definition
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE n.nspname = 'public' AND t.relname <> 'schema_migrations' AND c.contype <> 'n'
  UNION ALL
  SELECT 'index', t.relname, i.relname, pg_get_indexdef(i.oid)
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE n.nspname = 'public' AND t.relname <> 'schema_migrations'
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid AND c.conrelid = t.oid)
   ORDER BY 1, 2, 3`;

/** Every constraint and index of the database at `url`. */
export async function schemaObjects(url: string): Promise<SchemaObject[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<SchemaObject>(OBJECTS_SQL)).rows;
  } finally {
    await client.end();
  }
}

/**
 * The constraints and indexes that differ between the migrated database and the one the
 * entities describe: missing on either side, or the same name with another definition.
 */
export function compareSchemaObjects(
  migrations: readonly SchemaObject[],
  entities: readonly SchemaObject[],
): SchemaDifference[] {
  const key = (o: SchemaObject): string => `${o.kind}\u0000${o.table}\u0000${o.name}`;
  const a = new Map(migrations.map((o) => [key(o), o]));
  const b = new Map(entities.map((o) => [key(o), o]));
  const out: SchemaDifference[] = [];
  for (const k of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const [m, e] = [a.get(k), b.get(k)];
    if (m?.definition === e?.definition) continue;
    const o = (m ?? e) as SchemaObject;
    out.push({
      kind: o.kind,
      table: o.table,
      name: o.name,
      migrations: m?.definition ?? null,
      entities: e?.definition ?? null,
    });
  }
  return out;
}

/** A difference as one line of the check's report. */
export function describeDifference(d: SchemaDifference): string {
  const where = `${d.kind} ${d.name} on ${d.table}`;
  if (d.entities === null)
    return `${where}: built by the migrations, declared by no entity (${d.migrations})`;
  if (d.migrations === null)
    return `${where}: declared by an entity, built by no migration (${d.entities})`;
  return `${where}: the migrations built ${d.migrations}, the entities declare ${d.entities}`;
}

/**
 * The constraints and indexes the entities describe: a scratch database on the server of
 * `baseUrl`, synchronized from the entities (TypeORM's `synchronize`), read, then dropped.
 */
export async function entitySchemaObjects(baseUrl: string): Promise<SchemaObject[]> {
  const name = `suanli_entities_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: withDatabase(baseUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = withDatabase(baseUrl, name);
    const ds = createDataSource(url, { poolSize: 1 });
    await ds.initialize();
    try {
      await ds.synchronize();
    } finally {
      await ds.destroy();
    }
    return await schemaObjects(url);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * The statements that bring the migrated constraints and indexes to the entities' (for a new
 * migration), and back. Drops come before creations.
 */
export function repairStatements(diff: readonly SchemaDifference[]): {
  up: string[];
  down: string[];
} {
  const drop = (kind: SchemaDifference['kind'], table: string, name: string): string =>
    kind === 'constraint'
      ? `ALTER TABLE "${table}" DROP CONSTRAINT "${name}"`
      : `DROP INDEX "public"."${name}"`;
  const create = (kind: SchemaDifference['kind'], table: string, name: string, def: string) =>
    kind === 'constraint' ? `ALTER TABLE "${table}" ADD CONSTRAINT "${name}" ${def}` : def;
  const up: string[] = [];
  const upCreate: string[] = [];
  const down: string[] = [];
  const downCreate: string[] = [];
  for (const d of diff) {
    if (d.migrations !== null) {
      up.push(drop(d.kind, d.table, d.name));
      downCreate.push(create(d.kind, d.table, d.name, d.migrations));
    }
    if (d.entities !== null) {
      upCreate.push(create(d.kind, d.table, d.name, d.entities));
      down.push(drop(d.kind, d.table, d.name));
    }
  }
  return { up: [...up, ...upCreate], down: [...down, ...downCreate] };
}
