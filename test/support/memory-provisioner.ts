// An in-memory provisioner for the delivery unit tests (pure logic and the agent's loop); the
// integration tests use the real provisioners.
import type {
  Access,
  DeliveryForm,
  HostState,
  LeaseGrant,
  Provisioner,
} from '../../apps/metering/src/agent/delivery/provisioner.js';

export class MemoryProvisioner implements Provisioner {
  readonly leases = new Map<string, HostState>();
  readonly calls: string[] = [];
  failGrant = false;
  constructor(
    readonly name: string,
    readonly forms: DeliveryForm[],
  ) {}
  async probe() {
    return { ok: true, forms: this.forms, checks: [], capabilities: {} };
  }
  async grant(lease: LeaseGrant): Promise<Access> {
    this.calls.push(`grant ${lease.leaseId}`);
    await new Promise((r) => setTimeout(r, 5));
    if (this.failGrant) throw new Error('host said no');
    this.leases.set(lease.leaseId, 'active');
    return { kind: 'http', endpoint: 'http://x', token: 't', concurrency: 1 };
  }
  async suspend(id: string) {
    this.calls.push(`suspend ${id}`);
    if (this.leases.has(id)) this.leases.set(id, 'suspended');
  }
  async resume(id: string) {
    this.calls.push(`resume ${id}`);
    if (this.leases.has(id)) this.leases.set(id, 'active');
  }
  async revoke(id: string) {
    this.calls.push(`revoke ${id}`);
    this.leases.delete(id);
  }
  async list() {
    return [...this.leases].map(([leaseId, state]) => ({ leaseId, state }));
  }
}
