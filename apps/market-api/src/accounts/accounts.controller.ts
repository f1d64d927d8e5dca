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

  @Public()
  @Post('auth/signup')
  signUp(@Body() body: unknown) {
    return this.accounts.signUp(parseInput(signUpSchema, body));
  }

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  logIn(@Body() body: unknown) {
    return this.accounts.logIn(parseInput(logInSchema, body));
  }

  @Public()
  @Post('auth/refresh')
  @HttpCode(200)
  refresh(@Body() body: unknown) {
    return this.accounts.refresh(parseInput(refreshSchema, body).refreshToken);
  }

  /** Log-out: revokes the refresh token's session (its whole family); 200 whatever the token. */
  @Public()
  @Post('auth/revoke')
  @HttpCode(200)
  async revoke(@Body() body: unknown) {
    await this.accounts.revoke(parseInput(refreshSchema, body).refreshToken);
    return { revoked: true };
  }

  @Roles(...ROLES)
  @Get('me')
  me(@CurrentPrincipal() p: Principal) {
    return this.accounts.me(p.userId);
  }

  /** Operators list organizations; the read of their names is written to the access log. */
  @Roles('operator')
  @Get('admin/organizations')
  listOrganizations(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    return this.accounts.listOrganizations(p, parseInput(adminOrganizationsQuerySchema, query));
  }

  /** Operators admit organizations with any roles (assessors, other operators). */
  @Roles('operator')
  @Post('admin/organizations')
  async createOrganization(@Body() body: unknown) {
    const { user, org } = await this.accounts.createOrganization(parseInput(createOrgSchema, body));
    return {
      organization: { id: org.id, name: org.name, roles: org.roles },
      user: { id: user.id, email: user.email },
    };
  }

  @Roles('operator')
  @Post('admin/organizations/:id/roles')
  @HttpCode(200)
  grantRoles(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.accounts.grantRoles(id, parseInput(grantSchema, body).roles);
  }
}
