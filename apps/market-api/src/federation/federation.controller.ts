import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { admitPlatformSchema, joinPlatformSchema, statusReportSchema } from '@suanli/contracts';
import { HOPS_HEADER } from '@suanli/federation';
import {
  CurrentPrincipal,
  PeerAuth,
  Public,
  Roles,
  type Principal,
} from '../auth/auth.decorators.js';
import { DomainError, notFound } from '../common/errors.js';
import { parseInput } from '../common/validation.js';
import { DirectoryService } from './directory.service.js';
import { Membership } from './membership.js';
import { NationalMonitoring, type FederationMonitoringView } from './national-monitoring.js';
import { ASSERTION_HEADER, PeerCalls } from './peer-calls.js';
import { PlatformIdentity } from './platform-identity.js';
import { ResolutionService } from './resolution.service.js';

@Controller('v1')
export class FederationController {
  constructor(
    private readonly directory: DirectoryService,
    private readonly resolution: ResolutionService,
    private readonly peers: PeerCalls,
    private readonly membership: Membership,
    private readonly self: PlatformIdentity,
    private readonly national: NationalMonitoring,
  ) {}

  /**
   * The identifier gateway: a full CRI or a handle (`86.R03.E00042/000137`, URL-encoded) of any
   * platform of the federation, with the owner's signed record.
   */
  @Public()
  @Get('cri/:code')
  resolve(@Param('code') code: string, @Headers(HOPS_HEADER) hops?: string) {
    return this.resolution.resolve(code, hops);
  }

  /** Platform-to-platform: this platform's signed record for one of its own codes. */
  @PeerAuth()
  @Get('federation/records/:code')
  async record(@Param('code') code: string, @Headers(ASSERTION_HEADER) assertion?: string) {
    await this.peers.authenticate(assertion);
    const r = await this.resolution.local(code);
    return { record: r.record };
  }

  /**
   * Platform-to-platform (national): a platform's signed status report, about itself (the
   * caller its client assertion proves), verified against the directory and kept as its latest.
   */
  @PeerAuth()
  @Post('federation/reports')
  @HttpCode(202)
  report(@Body() body: unknown, @Headers(ASSERTION_HEADER) assertion?: string) {
    return this.national.receive(assertion, parseInput(statusReportSchema, body).report);
  }

  /**
   * The national federation page (运行监测): every platform's last signed status report, whether
   * it is stale, alerts for platforms that stopped reporting, and the federation's totals and
   * price index per standard unit over the fresh reports.
   */
  @Public()
  @Get('federation/monitoring')
  monitoring(): Promise<FederationMonitoringView> {
    return this.national.overview();
  }

  /** The signed directory this platform acts on (the national platform's own, or its cache). */
  @Public()
  @Get('federation/directory')
  async signedDirectory() {
    const directory = await this.directory.signed();
    if (!directory) throw notFound('federation directory');
    return { directory };
  }

  /** This platform's view of the federation: its code, the directory in force, the last refusal. */
  @Public()
  @Get('federation/status')
  async status() {
    const d = await this.directory.directory();
    return {
      platform: this.self.code,
      national: this.self.isNational,
      directory: d ? { serial: d.serial, iat: d.iat, exp: d.exp, platforms: d.platforms } : null,
      lastRefusal: this.directory.lastRefusal ?? null,
    };
  }

  /** A member fetches the directory now (and joins if it is not listed). */
  @Roles('operator')
  @Post('federation/directory/refresh')
  @HttpCode(200)
  refresh() {
    if (this.self.isNational) {
      throw new DomainError('invalid_state', 'the national platform publishes the directory', 409);
    }
    return this.membership.refresh();
  }

  /** The join handshake (national): a signed join request by an admitted key. */
  @Public()
  @Post('federation/join')
  join(@Body() body: unknown) {
    return this.directory.join(parseInput(joinPlatformSchema, body).request);
  }

  @Roles('operator')
  @Get('federation/platforms')
  async platforms() {
    return { items: await this.directory.list() };
  }

  /** Admits a platform, or updates its admitted key thumbprints (a key rotation). */
  @Roles('operator')
  @Post('federation/platforms')
  admit(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.directory.admit(parseInput(admitPlatformSchema, body), p);
  }

  @Roles('operator')
  @Post('federation/platforms/:code/suspend')
  @HttpCode(200)
  suspend(@CurrentPrincipal() p: Principal, @Param('code') code: string) {
    return this.directory.setState(code, 'suspended', p);
  }

  @Roles('operator')
  @Post('federation/platforms/:code/resume')
  @HttpCode(200)
  resume(@CurrentPrincipal() p: Principal, @Param('code') code: string) {
    return this.directory.setState(code, 'active', p);
  }

  @Roles('operator')
  @Delete('federation/platforms/:code')
  remove(@CurrentPrincipal() p: Principal, @Param('code') code: string) {
    return this.directory.setState(code, 'removed', p);
  }
}
