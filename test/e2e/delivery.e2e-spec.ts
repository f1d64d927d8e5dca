// Delivery end to end on real components (docs/delivery.md): the real market API and
// PostgreSQL, the agent's control loop over its enrolment key (HTTP long-poll, reports) with the
// real SSH provisioner, a real sshd and the real `ssh` client. A buyer adds a key, orders a VM
// lease, logs in; its wallet runs dry and SSH is refused; a top-up lets it back in; the end
// removes the account.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  LeaseAccessView,
  LeaseDeliveryEventView,
  LeaseView,
  OrderView,
} from '@suanli/contracts';
import {
  startAgentDelivery,
  type AgentDelivery,
} from '../../apps/metering/src/agent/delivery/setup.js';
import { startSshd, type RunningSshd } from '../../tools/dev/sshd.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../support/actors.js';
import { buyerKey, ROOT, runId, sshRun } from '../support/delivery.js';
import { expectEventually } from '../support/eventually.js';
import { apiClient } from '../support/http.js';
import { startMarketApi, type TestMarketApi } from '../support/market-api.js';

jest.setTimeout(180_000);

const RUN = runId();
const MINUTE = 60_000;
const SOON = { timeoutMs: 60_000, intervalMs: 200 };

/** The real `suanli` CLI as a child process (asynchronous: the API answers from this process). */
function suanli(args: string[], token: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'tools', 'cli', 'suanli.mjs'), ...args],
      { env: { ...process.env, SUANLI_TOKEN: token }, timeout: 60_000 },
      (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
    );
  });
}

describe('delivery end to end: SSH (real API, agent loop, sshd, ssh client)', () => {
  let api: TestMarketApi;
  let sshd: RunningSshd;
  let agent: AgentDelivery | undefined;
  const clientDir = mkdtempSync(join(tmpdir(), 'sl-ssh-client-'));
  const sshdDir = join(ROOT, '.local', 'sshd', `e2e-${RUN}`);

  beforeAll(async () => {
    [api, sshd] = await Promise.all([startMarketApi(), startSshd({ dir: sshdDir })]);
  });

  afterAll(async () => {
    // whatever the run left on the host goes: nothing of this agent is wanted any more
    await agent?.loop.stop();
    await agent?.delivery.reconcile([]);
    await agent?.delivery.close();
    await sshd?.stop();
    await api?.close();
    rmSync(sshdDir, { recursive: true, force: true });
    rmSync(clientDir, { recursive: true, force: true });
  });

  it('key → VM lease → login → wallet dry: refused → top-up: back in → end: account gone', async () => {
    const {
      offer,
      agent: enrolled,
      key,
      seller,
    } = await sellerWithOffer(api, {
      form: 'VM',
      prices: [{ unit: 'slot_h', price: '10.00' }],
    });
    agent = await startAgentDelivery({
      agentId: enrolled.id,
      privateJwk: { ...key.privateJwk, kid: key.kid },
      marketApiUrl: api.url,
      stateDir: join(clientDir, 'agent-state'),
      config: {
        intervalSeconds: 5,
        ssh: {
          host: sshd.host,
          port: sshd.port,
          keysDir: sshd.keysDir,
          sshdConfig: sshd.configFile,
          hostKeyFiles: [sshd.hostKeyPub],
        },
      },
    });
    // The probe passes on this host: the market learns the resource delivers VM over SSH.
    expect(await agent.loop.reportCapabilities()).toEqual({ forms: ['BM', 'VM'] });
    agent.loop.start();

    // The buyer: exactly one hour's money, and an SSH key in its profile.
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '10.00');
    const k = buyerKey(clientDir, `buyer-${RUN}`);
    expect(
      (await buyer.client.post('/v1/ssh-keys', { name: 'laptop', publicKey: k.publicKey })).status,
    ).toBe(201);
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 3,
    });
    expect(order.status).toBe(201);
    const leaseId = order.body.lease.id;
    const leaseState = async () =>
      (await buyer.client.get<LeaseView>(`/v1/leases/${leaseId}`)).body.state;

    // The agent learns of it over the long-poll, grants, reports: active, with access.
    await expectEventually(async () => expect(await leaseState()).toBe('active'), SOON);
    const { access } = (await buyer.client.get<LeaseAccessView>(`/v1/leases/${leaseId}/access`))
      .body;
    if (access?.kind !== 'ssh') throw new Error(`no SSH access: ${JSON.stringify(access)}`);
    expect(access).toMatchObject({ host: sshd.host, port: sshd.port });
    expect(
      await sshRun(sshd, access.user, k.file, 'id -un; echo ok > ~/kept; cat ~/kept'),
    ).toMatchObject({ code: 0, stdout: `${access.user}\nok\n` });
    // The CLI shows the buyer the same login; the seller gets nothing.
    const cli = await suanli(['lease', 'access', leaseId, '--api', api.url], buyer.token);
    expect(cli).toMatchObject({ code: 0 });
    expect(cli.stdout).toContain(
      `ssh -p ${sshd.port} ${access.user}@${sshd.host}\nhost key: SHA256:`,
    );
    expect((await seller.client.get(`/v1/leases/${leaseId}/access`)).status).toBe(403);

    // The wallet runs dry: after the first hour settlement cannot hold the next one.
    const operator = apiClient(api.url, await api.operatorToken());
    api.clock.set(new Date(api.clock.now().getTime() + 61 * MINUTE));
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    expect(await leaseState()).toBe('suspended');
    await expectEventually(async () => {
      const r = await sshRun(sshd, access.user, k.file, 'true');
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied/);
    }, SOON);

    // A top-up: the next settlement run resumes the lease, the same login works again.
    await fundWallet(api, buyer.orgId, 'CNY', '20.00');
    api.clock.set(new Date(api.clock.now().getTime() + MINUTE));
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    expect(await leaseState()).toBe('active');
    await expectEventually(
      async () =>
        expect(await sshRun(sshd, access.user, k.file, 'cat ~/kept')).toMatchObject({
          code: 0,
          stdout: 'ok\n',
        }),
      SOON,
    );

    // The end: the buyer cancels; the agent removes the account and its files.
    expect((await buyer.client.post(`/v1/leases/${leaseId}/cancel`, {})).status).toBe(200);
    await expectEventually(async () => {
      expect(spawnSync('getent', ['passwd', access.user]).status).not.toBe(0);
      expect(existsSync(`/home/${access.user}`)).toBe(false);
    }, SOON);
    const refused = await sshRun(sshd, access.user, k.file, 'true');
    expect(refused.code).toBe(255);

    // Every step is recorded once, with its time, for buyer and seller alike.
    const steps = await expectEventually(async () => {
      const items = (
        await buyer.client.get<{ items: LeaseDeliveryEventView[] }>(
          `/v1/leases/${leaseId}/delivery`,
        )
      ).body.items.map((e) => e.step);
      expect(items).toContain('revoked');
      return items;
    }, SOON);
    expect(steps).toEqual(['provisioning', 'granted', 'suspended', 'resumed', 'revoked']);
  });
});
