import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  aggregateSnapshots,
  epochSeconds,
  FederationError,
  reportIsStale,
  signStatusReport,
  verifyStatusReport,
  type MarketAggregate,
  type StatusReport,
} from '@suanli/federation';
import { Gauge } from 'prom-client';
import { DataSource, IsNull, LessThan } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import { repeatScheduledJob } from '../jobs/scheduled-job.js';
import { Metrics } from '../observability/metrics.js';
import { StatisticsService } from '../statistics/statistics.service.js';
import { DirectoryService } from './directory.service.js';
import { FederationConfig } from './federation.config.js';
import { FederationStatusReportEntity } from './federation.entities.js';
import { PeerCalls } from './peer-calls.js';
import { PlatformIdentity } from './platform-identity.js';

/** One platform on the national federation page. */
export interface ReportingPlatformView {
  code: string;
  level: string;
  name: string;
  /** Its state in the directory (`active`, `suspended`). */
  state: string;
  /** When its last verified report was issued and received; null when it never reported. */
  reportedAt: string | null;
  receivedAt: string | null;
  /** No report for longer than the stale limit (or never): left out of the federation totals. */
  stale: boolean;
  /** The last report as signed (JWS), verifiable later against the directory; and its payload. */
  record: string | null;
  report: StatusReport | null;
}

export interface FederationMonitoringView {
  national: string;
  generatedAt: string;
  reportIntervalSeconds: number;
  staleAfterSeconds: number;
  platforms: ReportingPlatformView[];
  /** Platforms that stopped reporting (or never did), active in the directory. */
  alerts: { platform: string; kind: 'not_reporting'; since: string | null }[];
  /** Totals, shares and the price index over the platforms' fresh reports. */
  federation: MarketAggregate & { platforms: string[] };
}

/**
 * National monitoring (docs/federation.md, "5. National monitoring"). Every platform signs a status
 * report of its market figures (StatisticsService.snapshot) every FEDERATION_REPORT_SECONDS and
 * sends it to the national platform with a client assertion; the national platform verifies it
 * against the directory, keeps the last one per platform, serves the federation page's figures and
 * alerts (audit event, metric, API) on a platform that stopped reporting.
 */
@Injectable()
export class NationalMonitoring implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('federation');
  private job: { stop(): Promise<void> } | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: FederationConfig,
    private readonly self: PlatformIdentity,
    private readonly directory: DirectoryService,
    private readonly peers: PeerCalls,
    private readonly statistics: StatisticsService,
    private readonly audit: AuditService,
    @Optional() private readonly metrics?: Metrics,
  ) {
    if (metrics && self.isNational) this.registerMetric(metrics);
  }

  onApplicationBootstrap(): void {
    if (!this.directory.enabled || process.env.FEDERATION_SCHEDULER === 'off') return;
    this.job = repeatScheduledJob('federation-report', this.config.reportMs, () => this.tick(), {
      metrics: this.metrics,
      warn: (m) => this.log.warn(m),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.job?.stop();
  }

  private async tick(): Promise<void> {
    await this.send();
    if (this.self.isNational) await this.alertSilent();
  }

  /** This platform's signed status report now. */
  async ownReport(): Promise<string> {
    const d = await this.directory.directory();
    const snapshot = await this.statistics.snapshot();
    return signStatusReport(
      {
        ...snapshot,
        platform: this.self.code,
        iat: epochSeconds(this.clock.now().getTime()),
        health: { status: d ? 'ok' : 'degraded', directorySerial: d?.serial ?? 0 },
      },
      this.self.privateJwk,
    );
  }

  /** Sends (a member) or records (the national platform) this platform's report. */
  async send(): Promise<void> {
    const report = await this.ownReport();
    if (this.self.isNational) {
      await this.store(report, this.self.code);
      return;
    }
    if (!this.config.nationalUrl || !(await this.directory.directory())) return;
    const r = await this.peers.post(
      this.config.nationalCode,
      `${this.config.nationalUrl}/v1/federation/reports`,
      { report },
    );
    if (r.status !== 202) {
      const e = r.body.error as { code?: string; message?: string } | undefined;
      this.log.warn(`status report refused (${r.status} ${e?.code ?? ''}): ${e?.message ?? ''}`);
    }
  }

  /** The national platform receives a report from the platform its client assertion proved. */
  async receive(
    assertion: string | undefined,
    report: string,
  ): Promise<{ platform: string; reportedAt: string }> {
    this.nationalOnly();
    const caller = await this.peers.authenticate(assertion);
    return this.store(report, caller.iss);
  }

  private async store(
    jws: string,
    issuer: string,
  ): Promise<{ platform: string; reportedAt: string }> {
    const directory = await this.directory.directory();
    if (!directory) throw new DomainError('invalid_state', 'no directory in force', 409);
    let report: StatusReport;
    try {
      report = await verifyStatusReport(jws, {
        directory,
        issuer,
        nowSeconds: epochSeconds(this.clock.now().getTime()),
      });
    } catch (e) {
      if (!(e instanceof FederationError)) throw e;
      await this.audit.record({
        action: 'federation.report.refused',
        outcome: 'failed',
        targetType: 'platform',
        targetId: issuer,
        details: { reason: e.code },
      });
      throw new DomainError('invalid_report', `status report refused: ${e.message}`, 422, {
        reason: e.code,
      });
    }
    const reportedAt = new Date(report.iat * 1000);
    // a late, older report never replaces a newer one
    await this.db.query(
      `INSERT INTO federation_status_reports (platform, report, payload, reported_at, received_at, alerted_at)
       VALUES ($1, $2, $3, $4, $5, NULL)
       ON CONFLICT (platform) DO UPDATE
         SET report = EXCLUDED.report, payload = EXCLUDED.payload,
             reported_at = EXCLUDED.reported_at, received_at = EXCLUDED.received_at, alerted_at = NULL
       WHERE federation_status_reports.reported_at <= EXCLUDED.reported_at`,
      [report.platform, jws, report, reportedAt, this.clock.now()],
    );
    return { platform: report.platform, reportedAt: reportedAt.toISOString() };
  }

  /** One audit event per platform each time it goes silent (cleared by its next report). */
  private async alertSilent(): Promise<void> {
    const now = this.clock.now();
    const repo = this.db.getRepository(FederationStatusReportEntity);
    const silent = await repo.find({
      where: {
        receivedAt: LessThan(new Date(now.getTime() - this.config.reportStaleMs)),
        alertedAt: IsNull(),
      },
    });
    for (const row of silent) {
      const marked = await repo.update(
        { platform: row.platform, alertedAt: IsNull() },
        { alertedAt: now },
      );
      if (!marked.affected) continue;
      this.log.warn(`${row.platform} stopped reporting (last ${row.receivedAt.toISOString()})`);
      await this.audit.record({
        action: 'federation.platform.not_reporting',
        outcome: 'failed',
        targetType: 'platform',
        targetId: row.platform,
        details: { lastReceivedAt: row.receivedAt.toISOString() },
      });
    }
  }

  /** The national federation page's figures. */
  async overview(): Promise<FederationMonitoringView> {
    this.nationalOnly();
    const directory = await this.directory.directory();
    if (!directory) throw notFound('federation directory');
    const now = this.clock.now();
    const rows = await this.db.getRepository(FederationStatusReportEntity).find();
    const byCode = new Map(rows.map((r) => [r.platform, r]));
    const platforms: ReportingPlatformView[] = directory.platforms.map((p) => {
      const row = byCode.get(p.code);
      return {
        code: p.code,
        level: p.level,
        name: p.name,
        state: p.state,
        reportedAt: row?.reportedAt.toISOString() ?? null,
        receivedAt: row?.receivedAt.toISOString() ?? null,
        stale: reportIsStale(row?.receivedAt.getTime(), now.getTime(), this.config.reportStaleMs),
        record: row?.report ?? null,
        report: (row?.payload as StatusReport | undefined) ?? null,
      };
    });
    const fresh = platforms.filter((p) => !p.stale && p.state === 'active' && p.report);
    return {
      national: this.self.code,
      generatedAt: now.toISOString(),
      reportIntervalSeconds: this.config.reportMs / 1000,
      staleAfterSeconds: this.config.reportStaleMs / 1000,
      platforms,
      alerts: platforms
        .filter((p) => p.stale && p.state === 'active')
        .map((p) => ({ platform: p.code, kind: 'not_reporting' as const, since: p.receivedAt })),
      federation: {
        platforms: fresh.map((p) => p.code),
        ...aggregateSnapshots(fresh.map((p) => p.report as StatusReport)),
      },
    };
  }

  private nationalOnly(): void {
    if (!this.self.isNational) {
      throw new DomainError('forbidden', 'only the national platform monitors the federation', 403);
    }
  }

  /** Seconds since each platform's last report (ops/prometheus/rules.yml, FederationPlatformSilent). */
  private registerMetric(metrics: Metrics): void {
    const db = this.db;
    new Gauge({
      name: 'suanli_federation_report_age_seconds',
      help: 'Seconds since the national platform last received a status report from each platform.',
      labelNames: ['platform'] as const,
      registers: [metrics.registry],
      async collect() {
        const rows = await db
          .query<{ platform: string; age: string }[]>(
            `SELECT platform, EXTRACT(EPOCH FROM now() - received_at)::text AS age
               FROM federation_status_reports`,
          )
          .catch(() => []);
        this.reset();
        for (const r of rows) this.set({ platform: r.platform }, Number(r.age));
      },
    });
  }
}
