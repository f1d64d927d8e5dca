// npm run services -- start|stop|status
//   start   start PostgreSQL, Kafka and stripe-mock (those not already running) and leave them
//           running detached; pid files in .local/run/
//   stop    stop the services recorded in .local/run/*.pid
//   status  show what answers on the default ports
import {
  ensureServices,
  redact,
  serviceStatus,
  ServiceError,
  stopRecordedServices,
} from './services.js';

const log = (s: string): void => console.log(`[services] ${s}`);

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'start': {
      const controller = new AbortController();
      const abort = (): void => controller.abort();
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
      const t = Date.now();
      const services = await ensureServices({ log, signal: controller.signal, detached: true });
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
      log(`all services ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      console.log(`DATABASE_URL=${redact(services.env.DATABASE_URL)}`);
      console.log(`KAFKA_BROKERS=${services.env.KAFKA_BROKERS}`);
      console.log(`STRIPE_API_BASE=${services.env.STRIPE_API_BASE}`);
      return 0;
    }
    case 'stop': {
      const stopped = await stopRecordedServices(log);
      if (stopped.length === 0) log('nothing to stop (no live pid files in .local/run/)');
      return 0;
    }
    case 'status': {
      for (const s of await serviceStatus()) {
        const pid = s.pid ? `pid ${s.pid}` : 'no pid file';
        console.log(`${s.name.padEnd(12)} ${s.answers ? 'up  ' : 'down'}  ${s.url}  (${pid})`);
      }
      return 0;
    }
    default:
      console.error('usage: npm run services -- start|stop|status');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof ServiceError ? `[services] ${e.message}` : e);
    process.exit(1);
  },
);
