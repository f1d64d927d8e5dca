// Builds an agent's delivery from its configuration (docs/delivery.md, "The agent's control
// loop"): the provisioners it names, their listeners started, and the control loop over the
// agent's enrolment key. Config is validated once here (zod); `main.ts` only wires it in.
import { join } from 'node:path';
import { z } from 'zod';
import type { Jwk } from '../../shared/signing.js';
import { ApiGateway } from './api-gateway.js';
import { ControlLoop, httpControlChannel, type ControlLoopOptions } from './control.js';
import { CtrProvisioner } from './ctr-provisioner.js';
import { Delivery } from './delivery.js';
import { JobProvisioner } from './job-provisioner.js';
import type { Provisioner } from './provisioner.js';
import { SshProvisioner } from './ssh-provisioner.js';

const listen = { host: z.string().optional(), port: z.number().int().min(0).max(65535).optional() };

/** An agent's `delivery` section (apps/metering/README.md). */
export const deliveryConfigSchema = z
  .object({
    /** The fixed reconcile interval; a long-poll waits at most this long. */
    intervalSeconds: z.number().int().min(1).max(30).default(30),
    ssh: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535),
        keysDir: z.string().optional(),
        sshdConfig: z.string().optional(),
        hostKeyFiles: z.array(z.string()).optional(),
        prefix: z.string().optional(),
      })
      .strict()
      .optional(),
    apiGateway: z
      .object({ upstream: z.string().url(), publicUrl: z.string().url().optional(), ...listen })
      .strict()
      .optional(),
    job: z
      .object({
        publicUrl: z.string().url().optional(),
        cgroupRoot: z.string().optional(),
        ...listen,
      })
      .strict()
      .optional(),
    ctr: z
      .object({
        runtime: z.string().optional(),
        host: z.string().optional(),
        probeImage: z.string().optional(),
        allowedImages: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;

/** Account tags, cgroup roots and container labels name the agent: safe characters only. */
export function ownerOf(agentId: string): string {
  return agentId.replace(/[^A-Za-z0-9._-]/g, '_').slice(-64);
}

export interface AgentDelivery {
  delivery: Delivery;
  loop: ControlLoop;
  /** The API gateway, when configured: its meter is the collector of the agent's API leases. */
  gateway?: ApiGateway;
  close(): Promise<void>;
}

/** Builds the provisioners, starts their listeners and returns the (not yet started) loop. */
export async function startAgentDelivery(options: {
  agentId: string;
  privateJwk: Jwk;
  marketApiUrl: string;
  stateDir: string;
  config: DeliveryConfig;
  log?: ControlLoopOptions['log'];
}): Promise<AgentDelivery> {
  const { config: c, agentId } = options;
  const owner = ownerOf(agentId);
  const dir = join(options.stateDir, 'delivery', encodeURIComponent(agentId));
  const provisioners: Provisioner[] = [];
  let gateway: ApiGateway | undefined;
  if (c.ssh) provisioners.push(new SshProvisioner({ ...c.ssh, owner }));
  if (c.apiGateway) {
    gateway = new ApiGateway({ ...c.apiGateway, stateDir: dir });
    await gateway.start();
    provisioners.push(gateway);
  }
  if (c.job) {
    const jobs = new JobProvisioner({ ...c.job, owner, stateDir: dir });
    await jobs.start();
    provisioners.push(jobs);
  }
  if (c.ctr) provisioners.push(new CtrProvisioner({ ...c.ctr, owner }));
  const delivery = new Delivery({ provisioners });
  const loop = new ControlLoop({
    delivery,
    channel: httpControlChannel(options.marketApiUrl, agentId, options.privateJwk),
    intervalSeconds: c.intervalSeconds,
    ...(options.log ? { log: options.log } : {}),
  });
  return {
    delivery,
    loop,
    ...(gateway ? { gateway } : {}),
    async close() {
      await loop.stop();
      await delivery.close();
    },
  };
}
