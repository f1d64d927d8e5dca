import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  AgentDeliveryLease,
  AgentDeliveryView,
  DeliveryAccess,
  DeliveryCapabilities,
  DeliveryReport,
  DeliveryStep,
  LeaseAccessView,
  LeaseDeliveryEventView,
} from '@suanli/contracts';
import { Money } from '@suanli/money';
import { Clock, wholeSecond } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import { LeaseEntity } from '../database/market.entities.js';
import type { ResourceEntity } from '../database/registry.entities.js';
import {
  LeaseDeliveryEntity,
  LeaseDeliveryEventEntity,
  ResourceDeliveryEntity,
  SshKeyEntity,
} from './delivery.entities.js';
import { LeaseEventsService } from '../leases/lease-events.service.js';
import { PrivacyService } from '../privacy/privacy.service.js';
import { EscrowService } from '../settlement/escrow.service.js';
import type { Principal } from '../auth/auth.decorators.js';
import {
  awaitsAccess,
  DEFAULT_PROVISIONING_SECONDS,
  SSH_FORMS,
  windowFromGrant,
} from './delivery-rules.js';

const POLL_MS = 250;
/** AAD name of a lease's encrypted access (bound to the buyer organization by the cipher). */
const accessField = (leaseId: string): string => `lease_access:${leaseId}`;

/**
 * The market side of delivery (docs/delivery.md): which resources deliver through their agent,
 * the control channel the agent long-polls, the steps it reports (recorded once per version),
 * activation at the grant (billing starts there), and the provisioning deadline.
 */
@Injectable()
export class DeliveryService implements OnModuleDestroy {
  private readonly log = new Logger('delivery');
  /** Set when the app starts closing: waiting long-polls answer before the pool closes. */
  private closing = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly escrow: EscrowService,
    private readonly leaseEvents: LeaseEventsService,
    private readonly privacy: PrivacyService,
    private readonly clock: Clock,
  ) {}

  onModuleDestroy(): void {
    this.closing = true;
  }

  /** The agent's provisioners as probed: the forms whose probe passed deliver from now on. */
  async reportCapabilities(
    resourceId: string,
    caps: DeliveryCapabilities,
  ): Promise<{ forms: string[] }> {
    const forms = [
      ...new Set(caps.provisioners.filter((p) => p.ok).flatMap((p) => p.forms)),
    ].sort();
    await this.db.getRepository(ResourceDeliveryEntity).upsert(
      {
        resourceId,
        forms,
        provisioners: caps.provisioners,
        reportedAt: this.clock.now(),
      },
      ['resourceId'],
    );
    return { forms };
  }

  /**
   * Called by orders before anything is held: true when the resource's agent delivers its form.
   * Ordering SSH access without an SSH key in the buyer's profile is refused here (422).
   */
  async delivers(m: EntityManager, resource: ResourceEntity, buyerOrgId: string): Promise<boolean> {
    const row = await m.findOneBy(ResourceDeliveryEntity, { resourceId: resource.id });
    if (!row || !row.forms.includes(resource.form)) return false;
    if (
      SSH_FORMS.includes(resource.form) &&
      !(await m.existsBy(SshKeyEntity, { orgId: buyerOrgId }))
    ) {
      throw new DomainError(
        'ssh_key_required',
        'this resource is delivered over SSH: add an SSH public key to your profile first',
        422,
        { field: 'sshKeys', form: resource.form },
      );
    }
    return true;
  }

  /** Called by orders in the order's transaction, for a lease `delivers` said yes to. */
  async open(m: EntityManager, lease: LeaseEntity, resource: ResourceEntity): Promise<void> {
    const provisionBy = new Date(this.clock.now().getTime() + DEFAULT_PROVISIONING_SECONDS * 1000);
    await m.query(
      `INSERT INTO lease_deliveries (lease_id, resource_id, form, version, provision_by)
       VALUES ($1, $2, $3, nextval('lease_delivery_version'), $4)`,
      [lease.id, resource.id, resource.form, provisionBy],
    );
  }

  /**
   * The control channel: the leases the agent must serve (and ended ones whose revoke it has not
   * reported yet), each with its desired state. With `cursor` and `waitSeconds`, answers as soon
   * as some version passes the cursor, or when the wait is over.
   */
  async agentView(
    resourceId: string,
    cursor: string | undefined,
    waitSeconds: number,
  ): Promise<AgentDeliveryView> {
    const deadline = Date.now() + waitSeconds * 1000;
    let current = await this.cursorOf(resourceId);
    while (cursor !== undefined && BigInt(current) <= BigInt(cursor) && Date.now() < deadline) {
      await new Promise((r) =>
        setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))),
      );
      if (this.closing) break;
      current = await this.cursorOf(resourceId);
    }
    const rows: (Omit<AgentDeliveryLease, 'sshPublicKeys'> & { buyerOrgId: string })[] =
      await this.db.query(
        `SELECT d.lease_id AS "leaseId", d.form, l.slots, r.spec, d.version::text AS version,
              lease_desired_state(l.state, l.paused_at) AS desired,
              l.state IN ('pending', 'provisioning') AS "awaitingAccess",
              l.buyer_org_id AS "buyerOrgId",
              (SELECT e.step FROM lease_delivery_events e
                WHERE e.lease_id = d.lease_id AND e.version = d.version
                  AND e.step NOT IN ('failed', 'provisioning')
                ORDER BY e.id DESC LIMIT 1) AS reported
         FROM lease_deliveries d
         JOIN leases l ON l.id = d.lease_id
         JOIN resources r ON r.id = d.resource_id
        WHERE d.resource_id = $1
          AND (lease_desired_state(l.state, l.paused_at) <> 'ended'
               OR NOT EXISTS (SELECT 1 FROM lease_delivery_events e
                               WHERE e.lease_id = d.lease_id AND e.version = d.version
                                 AND e.step = 'revoked'))
        ORDER BY d.lease_id`,
        [resourceId],
      );
    const keys = await this.keysOf([
      ...new Set(rows.filter((r) => SSH_FORMS.includes(r.form)).map((r) => r.buyerOrgId)),
    ]);
    return {
      cursor: current,
      leases: rows.map(({ buyerOrgId, ...r }) => ({
        ...r,
        sshPublicKeys: SSH_FORMS.includes(r.form) ? (keys.get(buyerOrgId) ?? []) : [],
      })),
    };
  }

  private async cursorOf(resourceId: string): Promise<string> {
    const [row] = await this.db.query<{ v: string | null }[]>(
      'SELECT max(version)::text AS v FROM lease_deliveries WHERE resource_id = $1',
      [resourceId],
    );
    return row?.v ?? '0';
  }

  private async keysOf(orgIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (orgIds.length === 0) return out;
    const rows = await this.db.query<{ org_id: string; public_key: string }[]>(
      'SELECT org_id, public_key FROM ssh_keys WHERE org_id = ANY($1::uuid[]) ORDER BY created_at, id',
      [orgIds],
    );
    for (const r of rows) out.set(r.org_id, [...(out.get(r.org_id) ?? []), r.public_key]);
    return out;
  }

  /**
   * A step the agent reports. Recorded once per (lease, step, version): a repeat after a lost
   * answer or a restart changes nothing. `granted` on a lease awaiting access activates it (the
   * billed window starts now); `failed` with `invalid_grant` ends it as `provisioning_failed`.
   */
  async report(
    resourceId: string,
    leaseId: string,
    r: DeliveryReport,
  ): Promise<{ recorded: boolean; state: string }> {
    return this.db.transaction(async (m) => {
      const lease = await m.findOne(LeaseEntity, {
        where: { id: leaseId },
        lock: { mode: 'pessimistic_write' },
      });
      const delivery = await m.findOneBy(LeaseDeliveryEntity, { leaseId });
      if (!lease || !delivery || delivery.resourceId !== resourceId) throw notFound('lease');
      const now = wholeSecond(this.clock.now());
      if (r.step === 'provisioning' && lease.state === 'pending') {
        await m.update(LeaseEntity, { id: lease.id }, { state: 'provisioning' });
        lease.state = 'provisioning';
      }
      if (r.step === 'granted' && awaitsAccess(lease.state)) {
        await this.activate(m, lease, delivery, r.access as DeliveryAccess, now);
      } else if (
        r.step === 'granted' &&
        (lease.state === 'active' || lease.state === 'suspended')
      ) {
        // A repeated grant (the agent lost the answer, or re-granted after a crash): the access may
        // carry a new token, which replaces the one stored.
        await this.storeAccess(m, lease, r.access as DeliveryAccess);
      }
      if (r.step === 'failed' && r.code === 'invalid_grant' && awaitsAccess(lease.state)) {
        await this.failProvisioning(m, lease, now, r.reason ?? 'the grant was refused');
      }
      const inserted: unknown[] = await m.query(
        `INSERT INTO lease_delivery_events (lease_id, step, version, at, reason)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (lease_id, step, version) DO NOTHING RETURNING id`,
        [
          leaseId,
          r.step,
          r.version,
          now,
          r.step === 'failed' ? (r.reason ?? r.code ?? null) : null,
        ],
      );
      return { recorded: inserted.length > 0, state: lease.state };
    });
  }

  private async activate(
    m: EntityManager,
    lease: LeaseEntity,
    delivery: LeaseDeliveryEntity,
    access: DeliveryAccess,
    now: Date,
  ): Promise<void> {
    // The hold taken at the order (the lease's escrow_held) covers the first billed period.
    const window = windowFromGrant(lease, now);
    Object.assign(lease, { ...window, settledUntil: window.startsAt, state: 'active' });
    await m.update(
      LeaseEntity,
      { id: lease.id },
      {
        startsAt: window.startsAt,
        endsAt: window.endsAt,
        settledUntil: window.startsAt,
        state: 'active',
      },
    );
    delivery.grantedAt = now;
    await m.update(LeaseDeliveryEntity, { leaseId: lease.id }, { grantedAt: now });
    await this.storeAccess(m, lease, access);
    await this.leaseEvents.record(m, lease, 'lease.started');
  }

  private async storeAccess(
    m: EntityManager,
    lease: LeaseEntity,
    access: DeliveryAccess,
  ): Promise<void> {
    const field = accessField(lease.id);
    const sealed = await this.privacy.sealFields(m, lease.buyerOrgId, {
      [field]: JSON.stringify(access),
    });
    await m.update(LeaseDeliveryEntity, { leaseId: lease.id }, { access: sealed[field] });
  }

  /** Ends a lease whose access never worked: nothing billed, the hold released in full. */
  private async failProvisioning(
    m: EntityManager,
    lease: LeaseEntity,
    now: Date,
    reason: string,
  ): Promise<void> {
    await this.escrow.release(
      m,
      lease,
      lease.settledUntil,
      Money.of(lease.escrowHeld, lease.currency),
    );
    Object.assign(lease, {
      state: 'provisioning_failed',
      endedAt: lease.settledUntil,
      endReason: 'provisioning_failed',
    });
    await m.update(
      LeaseEntity,
      { id: lease.id },
      {
        state: 'provisioning_failed',
        endedAt: lease.settledUntil,
        endReason: 'provisioning_failed',
      },
    );
    this.log.log(`lease ${lease.id}: provisioning failed at ${now.toISOString()} (${reason})`);
    await this.leaseEvents.record(m, lease, 'lease.ended', 'provisioning_failed');
  }

  /** Ends every lease whose access was not reported by its deadline. Returns how many. */
  async expireOverdue(now = this.clock.now()): Promise<number> {
    const due = await this.db.query<{ lease_id: string }[]>(
      `SELECT d.lease_id FROM lease_deliveries d JOIN leases l ON l.id = d.lease_id
        WHERE d.provision_by <= $1 AND l.state IN ('pending', 'provisioning')`,
      [now],
    );
    let n = 0;
    for (const { lease_id: id } of due) {
      await this.db.transaction(async (m) => {
        const lease = await m.findOne(LeaseEntity, {
          where: { id },
          lock: { mode: 'pessimistic_write' },
        });
        if (!lease || !awaitsAccess(lease.state)) return;
        await this.failProvisioning(m, lease, wholeSecond(now), 'the provisioning deadline passed');
        const version = (await m.findOneByOrFail(LeaseDeliveryEntity, { leaseId: id })).version;
        await m.query(
          `INSERT INTO lease_delivery_events (lease_id, step, version, at, reason)
           VALUES ($1, 'failed', $2, $3, 'the provisioning deadline passed') ON CONFLICT DO NOTHING`,
          [id, version, wholeSecond(now)],
        );
        n += 1;
      });
    }
    return n;
  }

  /** The lease's recorded delivery steps, oldest first (its buyer and seller). */
  async events(p: Principal, leaseId: string): Promise<LeaseDeliveryEventView[]> {
    const lease = await this.db.getRepository(LeaseEntity).findOneBy({ id: leaseId });
    if (!lease || (lease.buyerOrgId !== p.orgId && lease.sellerOrgId !== p.orgId))
      throw notFound('lease');
    const rows = await this.db
      .getRepository(LeaseDeliveryEventEntity)
      .find({ where: { leaseId }, order: { id: 'ASC' }, take: 1000 });
    return rows.map((e) => ({
      step: e.step as DeliveryStep,
      at: e.at.toISOString(),
      reason: e.reason,
    }));
  }

  /** The lease's access, decrypted for its buyer; to anyone else the lease does not exist. */
  async access(p: Principal, leaseId: string): Promise<LeaseAccessView> {
    const lease = await this.db.getRepository(LeaseEntity).findOneBy({ id: leaseId });
    if (!lease || lease.buyerOrgId !== p.orgId) throw notFound('lease');
    const d = await this.db.getRepository(LeaseDeliveryEntity).findOneBy({ leaseId });
    const ended = lease.state === 'ended' || lease.state === 'provisioning_failed';
    if (!d || d.access === null || ended)
      return { leaseId, access: null, grantedAt: d?.grantedAt?.toISOString() ?? null };
    const field = accessField(leaseId);
    const open = await this.privacy.openFields(this.db.manager, lease.buyerOrgId, {
      [field]: d.access,
    });
    return {
      leaseId,
      access: open[field] ? (JSON.parse(open[field]) as DeliveryAccess) : null,
      grantedAt: d.grantedAt?.toISOString() ?? null,
    };
  }
}
