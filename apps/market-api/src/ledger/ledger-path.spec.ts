import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

// One ledger path (docs/decisions.md): LedgerService.postMany is the only code that writes
// ledger rows. Everything else — settlement, escrow, payments, tools, benchmarks, tests — posts
// through it. This test reads the sources and fails on a write to a ledger table elsewhere.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const HOME = 'apps/market-api/src/ledger/ledger.service.ts';
const SKIP = new Set(['node_modules', '.local', '.next', 'dist', '.git', '.nx', 'migrations']);

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* sources(path);
    else if (/\.(ts|tsx|js|mjs)$/.test(e.name)) yield path;
  }
}

const SQL_WRITE =
  /(insert\s+into|update|delete\s+from|copy|truncate)\s+"?ledger_(transactions|entries|accounts)\b/i;
const ORM_WRITE =
  /\b(insert|save|update|upsert|delete|remove)\s*\(\s*Ledger(Transaction|Entry|Account)Entity\b|getRepository\(\s*Ledger(Transaction|Entry|Account)Entity\s*\)\s*\.\s*(insert|save|update|upsert|delete|remove)\b/;

describe('one ledger path', () => {
  it('writes ledger rows only in LedgerService', () => {
    const offenders: string[] = [];
    for (const top of ['apps', 'libs', 'tools', 'test', 'bench']) {
      for (const file of sources(join(ROOT, top))) {
        const path = relative(ROOT, file);
        if (path === HOME || path === 'apps/market-api/src/ledger/ledger-path.spec.ts') continue;
        const text = readFileSync(file, 'utf8');
        if (SQL_WRITE.test(text) || ORM_WRITE.test(text)) offenders.push(path);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('its own patterns catch the writes they are meant to', () => {
    expect(SQL_WRITE.test('INSERT INTO ledger_entries (a) VALUES (1)')).toBe(true);
    expect(SQL_WRITE.test('update "ledger_accounts" set balance = 0')).toBe(true);
    expect(SQL_WRITE.test('SELECT * FROM ledger_entries')).toBe(false);
    expect(ORM_WRITE.test('m.insert(LedgerEntryEntity, {})')).toBe(true);
    expect(ORM_WRITE.test('m.getRepository(LedgerTransactionEntity).save(x)')).toBe(true);
  });
});
