// A settlement worker in its own process (two-worker concurrency test and benchmark):
//   node --import @swc-node/register/esm-register settle-worker.ts <database url> <now ISO> [start at ms]
// Waits until `start at` (so that several workers start together), runs SettlementService.runDue
// once and prints its result as one JSON line.
import { SettlementConfig } from '../settlement.config.js';
import { openDataSource, settlementKit } from './settlement-fixtures.js';

const [url, nowIso, startAt] = process.argv.slice(2);
if (!url || !nowIso) {
  console.error('usage: settle-worker <database url> <now ISO> [start at ms]');
  process.exit(2);
}
const ds = await openDataSource(url, 4);
const kit = settlementKit(ds, new SettlementConfig({ SETTLEMENT_SCHEDULER: 'off' }));
const wait = startAt ? Number(startAt) - Date.now() : 0;
if (wait > 0) await new Promise((r) => setTimeout(r, wait));
const t0 = process.hrtime.bigint();
const result = await kit.settlement.runDue(new Date(nowIso));
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify({ pid: process.pid, ms, result }));
await ds.destroy();
