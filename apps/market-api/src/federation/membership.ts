import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { entryOf, epochSeconds, signJoinRequest } from '@suanli/federation';
import { Clock } from '../common/clock.js';
import { repeatScheduledJob } from '../jobs/scheduled-job.js';
import { Metrics } from '../observability/metrics.js';
import { DirectoryService } from './directory.service.js';
import { FederationConfig } from './federation.config.js';
import { PeerCalls } from './peer-calls.js';
import { PlatformIdentity } from './platform-identity.js';

export interface RefreshResult {
  accepted: boolean;
  serial: number;
  refusal?: string;
  joined?: boolean;
}

/**
 * A member's side of the directory (docs/federation.md): fetch it from the national platform,
 * verify and cache it, and join (again, after a key rotation) while the directory does not list
 * this platform with its current key. Every FEDERATION_REFRESH_SECONDS, and before the cached
 * directory's half-life. Also prunes expired assertion `jti`s on every platform.
 */
@Injectable()
export class Membership implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('federation');
  private job: { stop(): Promise<void> } | undefined;

  constructor(
    private readonly config: FederationConfig,
    private readonly self: PlatformIdentity,
    private readonly directory: DirectoryService,
    private readonly peers: PeerCalls,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.directory.enabled || process.env.FEDERATION_SCHEDULER === 'off') return;
    this.job = repeatScheduledJob('federation', this.config.refreshMs, () => this.tick(), {
      metrics: this.metrics,
      warn: (m) => this.log.warn(m),
    });
  }

  private async tick(): Promise<void> {
    await this.peers.pruneJtis();
    if (!this.self.isNational) await this.refresh();
  }

  /** Fetches the directory once; joins when it does not list this platform's current key. */
  async refresh(): Promise<RefreshResult> {
    const national = this.config.nationalUrl;
    if (!national) return { accepted: false, serial: 0, refusal: 'not_a_member' };
    const res = await fetch(`${national}/v1/federation/directory`, {
      signal: AbortSignal.timeout(this.config.callTimeoutMs),
    });
    const body = (await res.json()) as { directory?: string };
    if (typeof body.directory !== 'string') {
      return { accepted: false, serial: 0, refusal: `national answered ${res.status}` };
    }
    const result: RefreshResult = await this.directory.accept(body.directory);
    const d = await this.directory.directory();
    const listed = d && entryOf(d, this.self.code);
    const mine = (await this.self.entry()).thumbprints;
    if (
      !listed ||
      listed.state !== 'active' ||
      !mine.every((t) => listed.thumbprints.includes(t))
    ) {
      if (listed?.state === 'suspended') return result;
      result.joined = await this.join();
      if (result.joined) return { ...(await this.refreshAfterJoin()), joined: true };
    }
    return result;
  }

  private async refreshAfterJoin(): Promise<RefreshResult> {
    const res = await fetch(`${this.config.nationalUrl}/v1/federation/directory`, {
      signal: AbortSignal.timeout(this.config.callTimeoutMs),
    });
    const body = (await res.json()) as { directory?: string };
    return this.directory.accept(String(body.directory));
  }

  /** The join handshake's request, signed with the current key; true when the national accepted. */
  async join(): Promise<boolean> {
    const entry = await this.self.entry();
    const request = await signJoinRequest(
      {
        code: this.self.code,
        national: this.config.nationalCode,
        name: entry.name,
        url: entry.url,
        keys: entry.keys,
        nowSeconds: epochSeconds(this.clock.now().getTime()),
      },
      this.self.privateJwk,
    );
    const res = await fetch(`${this.config.nationalUrl}/v1/federation/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request }),
      signal: AbortSignal.timeout(this.config.callTimeoutMs),
    });
    if (res.status !== 201 && res.status !== 200) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      this.log.warn(`join refused (${res.status}): ${body.error?.message ?? ''}`);
      return false;
    }
    this.log.log(`joined the federation of ${this.config.nationalCode}`);
    return true;
  }

  async onModuleDestroy(): Promise<void> {
    await this.job?.stop();
  }
}
