// The gateway of bench/delivery/gateway.bench.ts in a process of its own: one API lease with
// enough slots for the load, its endpoint and token printed as one JSON line.
import { randomUUID } from 'node:crypto';
import { ApiGateway } from '../../apps/metering/src/agent/delivery/api-gateway.js';

const gateway = new ApiGateway({ upstream: process.env.UPSTREAM as string });
await gateway.start();
const access = await gateway.grant({
  leaseId: randomUUID(),
  form: 'API',
  slots: Number(process.env.SLOTS ?? 64),
  spec: { cpu: 1 },
});
console.log(JSON.stringify(access));
process.on('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
