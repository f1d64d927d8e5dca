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
   *
   * @summary Resolve a compute resource identifier
   * @param code A full CRI (`86.N00/CN-GZ-A1.AI.BM.H200x8.000001-K`) or a handle
   * (`86.R03.E00042/000137`), URL-encoded.
   * @param hops How many platforms the request has already gone through (set by platforms
   * forwarding it; callers leave it out).
   */
  @Public()
  @Get('cri/:code')
  resolve(@Param('code') code: string, @Headers(HOPS_HEADER) hops?: string) {
    return this.resolution.resolve(code, hops);
  }

  /**
   * Platform-to-platform: this platform's signed record for one of its own codes.
   *
   * @summary Get a signed resolution record (platforms)
   * @param code The CRI or handle of one of this platform's own resources, URL-encoded.
   * @param assertion The calling platform's client assertion (an EdDSA JWT signed by a key the
   * federation directory lists).
   */
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
   *
   * @summary Send a platform status report (platforms)
   * @param assertion The calling platform's client assertion (an EdDSA JWT signed by a key the
   * federation directory lists).
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
   *
   * @summary Monitor the federation's platforms
   */
  @Public()
  @Get('federation/monitoring')
  monitoring(): Promise<FederationMonitoringView> {
    return this.national.overview();
  }

  /**
   * The signed directory this platform acts on (the national platform's own, or its cache).
   *
   * @summary Get the signed federation directory
   */
  @Public()
  @Get('federation/directory')
  async signedDirectory() {
    const directory = await this.directory.signed();
    if (!directory) throw notFound('federation directory');
    return { directory };
  }

  /**
   * This platform's view of the federation: its code, the directory in force, the last refusal.
   *
   * @summary Get the federation status
   */
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

  /**
   * A member fetches the directory now (and joins if it is not listed).
   *
   * @summary Refresh the federation directory (members)
   */
  @Roles('operator')
  @Post('federation/directory/refresh')
  @HttpCode(200)
  refresh() {
    if (this.self.isNational) {
      throw new DomainError('invalid_state', 'the national platform publishes the directory', 409);
    }
    return this.membership.refresh();
  }

  /**
   * The join handshake (national): a signed join request by an admitted key.
   *
   * @summary Join the federation (platform handshake)
   */
  @Public()
  @Post('federation/join')
  join(@Body() body: unknown) {
    return this.directory.join(parseInput(joinPlatformSchema, body).request);
  }

  /**
   * Operators of the national platform: every admitted platform, with its code, endpoint, key
   * thumbprints and state (`active`, `suspended`, `removed`).
   *
   * @summary List the platforms of the federation
   */
  @Roles('operator')
  @Get('federation/platforms')
  async platforms() {
    return { items: await this.directory.list() };
  }

  /**
   * Admits a platform, or updates its admitted key thumbprints (a key rotation).
   *
   * @summary Admit a platform to the federation
   */
  @Roles('operator')
  @Post('federation/platforms')
  admit(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.directory.admit(parseInput(admitPlatformSchema, body), p);
  }

  /**
   * The platform stays in the directory as `suspended`: its records are not trusted until it is
   * resumed. Audited.
   *
   * @summary Suspend a platform
   * @param code The platform's code in the federation, e.g. `R03`.
   */
  @Roles('operator')
  @Post('federation/platforms/:code/suspend')
  @HttpCode(200)
  suspend(@CurrentPrincipal() p: Principal, @Param('code') code: string) {
    return this.directory.setState(code, 'suspended', p);
  }

  /**
   * The platform is `active` again in the next directory. Audited.
   *
   * @summary Resume a suspended platform
   * @param code The platform's code in the federation, e.g. `R03`.
   */
  @Roles('operator')
  @Post('federation/platforms/:code/resume')
  @HttpCode(200)
  resume(@CurrentPrincipal() p: Principal, @Param('code') code: string) {
    return this.directory.setState(code, 'active', p);
  }

  /**
   * The platform is `removed` from the next directory for good; its records are no longer trusted.
   * Audited.
   *
   * @summary Remove a platform from the federation
   * @param code The platform's code in the federation, e.g. `R03`.
   */
  @Roles('operator')
  @Delete('federation/platforms/:code')
  remove(@CurrentPrincipal() p: Principal, @Param('code') code: string) {
    return this.directory.setState(code, 'removed', p);
  }
}
