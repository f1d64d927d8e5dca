// The metering ingest process: validates its configuration (fail fast), starts the consumer and
// the health server, and on SIGTERM/SIGINT drains the batch in progress and exits.
import { loadIngestConfig } from './config.js';
import { startIngest } from './ingest.js';

let config;
try {
  config = loadIngestConfig();
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

// Test only (the kill -9 test): hold each transaction open this long before COMMIT.
const holdMs = Number(process.env.INGEST_TEST_HOLD_BEFORE_COMMIT_MS ?? '0');
if (holdMs > 0) {
  config.hooks = { beforeDbCommit: () => new Promise((r) => setTimeout(r, holdMs)) };
}

const ingest = await startIngest(config);
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ at: new Date().toISOString(), msg: 'draining', signal }));
  const force = setTimeout(() => process.exit(1), 30_000);
  force.unref();
  ingest.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
