import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ROLES,
  adminOrganizationsQuerySchema,
  logInSchema,
  refreshSchema,
  signUpSchema,
} from '@suanli/contracts';
import { z } from 'zod';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Public, Roles } from '../auth/auth.decorators.js';
import { AccountsService } from './accounts.service.js';

export const grantSchema = z.object({ roles: z.array(z.enum(ROLES)).min(1) });
export const createOrgSchema = signUpSchema.extend({
  organization: signUpSchema.shape.organization.extend({ roles: z.array(z.enum(ROLES)).min(1) }),
});

@Controller('v1')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /**
   * Creates an organization with the roles it asks for (`buyer` and/or `seller`) and its first
   * user, and logs that user in: the answer carries an access token (15 minutes) and a refresh
   * token.
   *
   * @summary Sign up a new organization
   */
  @Public()
  @Post('auth/signup')
  signUp(@Body() body: unknown) {
    return this.accounts.signUp(parseInput(signUpSchema, body));
  }

  /**
   * Exchanges a user's email and password for an access token (an EdDSA JWT valid for 15 minutes)
   * and a refresh token. A wrong email or password answers 401 (`unauthenticated`) without saying
   * which.
   *
   * @summary Log in with email and password
   */
  @Public()
  @Post('auth/login')
  @HttpCode(200)
  logIn(@Body() body: unknown) {
    return this.accounts.logIn(parseInput(logInSchema, body));
  }

  /**
   * Exchanges a refresh token for a new access token and a new refresh token (rotation): the old
   * refresh token is spent, and presenting a spent one again revokes its whole session family.
   *
   * @summary Renew an access token
   */
  @Public()
  @Post('auth/refresh')
  @HttpCode(200)
  refresh(@Body() body: unknown) {
    return this.accounts.refresh(parseInput(refreshSchema, body).refreshToken);
  }

  /**
   * Log-out: revokes the refresh token's session (its whole family); 200 whatever the token.
   *
   * @summary Log out (revoke a refresh token)
   */
  @Public()
  @Post('auth/revoke')
  @HttpCode(200)
  async revoke(@Body() body: unknown) {
    await this.accounts.revoke(parseInput(refreshSchema, body).refreshToken);
    return { revoked: true };
  }

  /**
   * Who the access token belongs to: the user, the organization and its roles.
   *
   * @summary Get the current user and organization
   */
  @Roles(...ROLES)
  @Get('me')
  me(@CurrentPrincipal() p: Principal) {
    return this.accounts.me(p.userId);
  }

  /**
   * Operators list organizations; the read of their names is written to the access log.
   *
   * @summary List organizations (operators)
   */
  @Roles('operator')
  @Get('admin/organizations')
  listOrganizations(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    return this.accounts.listOrganizations(p, parseInput(adminOrganizationsQuerySchema, query));
  }

  /**
   * Operators admit organizations with any roles (assessors, other operators).
   *
   * @summary Admit an organization (operators)
   */
  @Roles('operator')
  @Post('admin/organizations')
  async createOrganization(@Body() body: unknown) {
    const { user, org } = await this.accounts.createOrganization(parseInput(createOrgSchema, body));
    return {
      organization: { id: org.id, name: org.name, roles: org.roles },
      user: { id: user.id, email: user.email },
    };
  }

  /**
   * Operators add roles (`buyer`, `seller`, `assessor`, `operator`) to an organization; roles it
   * already holds are kept. Answers the organization with all its roles.
   *
   * @summary Grant roles to an organization
   * @param id The organization's id (a UUID).
   */
  @Roles('operator')
  @Post('admin/organizations/:id/roles')
  @HttpCode(200)
  grantRoles(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.accounts.grantRoles(id, parseInput(grantSchema, body).roles);
  }
}
