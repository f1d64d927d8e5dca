import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  AccessLogQuery,
  BillingProfileInput,
  PersonalDataReadQuery,
  PseudonymResolveQuery,
  type Page,
} from '@suanli/contracts';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { parseInput } from '../common/validation.js';
import { PrivacyService, type AccessLogView, type BillingProfileView } from './privacy.service.js';
import { PseudonymsService, type PseudonymView } from './pseudonyms.service.js';

@Controller('v1')
export class PrivacyController {
  constructor(
    private readonly privacy: PrivacyService,
    private readonly pseudonyms: PseudonymsService,
  ) {}

  /**
   * The caller's own billing profile (decrypted for its owner).
   *
   * @summary Get the organization's billing profile
   */
  @Roles('buyer', 'seller', 'assessor', 'operator')
  @Get('me/billing-profile')
  own(@CurrentPrincipal() p: Principal): Promise<BillingProfileView> {
    return this.privacy.ownBillingProfile(p.orgId);
  }

  /**
   * Sets (merges) the caller's billing profile; each field is stored encrypted.
   *
   * @summary Set the organization's billing profile
   */
  @Roles('buyer', 'seller', 'assessor', 'operator')
  @Put('me/billing-profile')
  set(@CurrentPrincipal() p: Principal, @Body() body: unknown): Promise<BillingProfileView> {
    return this.privacy.setBillingProfile(p.orgId, parseInput(BillingProfileInput, body));
  }

  /**
   * An operator reads an organization's personal data; `purpose` is required and logged.
   *
   * @summary Read an organization's billing profile (operators)
   * @param id The organization's id (a UUID).
   */
  @Roles('operator')
  @Get('admin/organizations/:id/billing-profile')
  read(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: unknown,
  ): Promise<BillingProfileView> {
    return this.privacy.operatorRead(p, id, parseInput(PersonalDataReadQuery, q).purpose);
  }

  /**
   * Maps a pseudonym back to its organization (only the platform can); the read is logged.
   *
   * @summary Resolve a pseudonym (operators)
   */
  @Roles('operator')
  @Get('admin/privacy/pseudonym')
  pseudonym(@CurrentPrincipal() p: Principal, @Query() q: unknown): Promise<PseudonymView> {
    return this.pseudonyms.resolve(p, parseInput(PseudonymResolveQuery, q));
  }

  /**
   * The access log: who read which organization's personal data, when, why (`purpose`) and with
   * what outcome, newest first.
   *
   * @summary List reads of personal data (operators)
   */
  @Roles('operator')
  @Get('admin/privacy/access-log')
  async accessLog(@Query() q: unknown): Promise<Page<AccessLogView>> {
    return { items: await this.privacy.accessLog(parseInput(AccessLogQuery, q).orgId) };
  }

  /**
   * Rotates the organization's data key (fields re-encrypted, old key destroyed).
   *
   * @summary Rotate an organization's data key (operators)
   * @param id The organization's id (a UUID).
   */
  @Roles('operator')
  @Post('admin/organizations/:id/data-key/rotate')
  @HttpCode(200)
  rotate(@Param('id', ParseUUIDPipe) id: string): Promise<{ version: number; fields: number }> {
    return this.privacy.rotateDataKey(id);
  }

  /**
   * After adding a new master key first in PRIVACY_MASTER_KEYS: re-wraps every data key.
   *
   * @summary Re-wrap every data key (operators)
   */
  @Roles('operator')
  @Post('admin/privacy/rewrap')
  @HttpCode(200)
  rewrap(): Promise<{ rewrapped: number; masterKeyId: string }> {
    return this.privacy.rewrapDataKeys();
  }

  /**
   * Erases an organization's personal data for good (crypto-shredding).
   *
   * @summary Erase an organization's personal data (operators)
   * @param id The organization's id (a UUID).
   */
  @Roles('operator')
  @Post('admin/organizations/:id/erase')
  @HttpCode(200)
  erase(@Param('id', ParseUUIDPipe) id: string): Promise<{ orgId: string; shreddedKeys: number }> {
    return this.privacy.erase(id);
  }
}
