import { Module } from '@nestjs/common';
import { OrganizationStateVerifier } from '../auth/verifiers.js';
import { PrivacyModule } from '../privacy/privacy.module.js';
import { AccountsController } from './accounts.controller.js';
import { AccountsService } from './accounts.service.js';
import { LoginThrottle } from './login-throttle.js';
import { LoginThrottleSweeper } from './login-throttle.sweeper.js';
import { UsersRepository } from './users.repository.js';

/** Organizations, users, log-in and refresh tokens. */
@Module({
  imports: [PrivacyModule],
  controllers: [AccountsController],
  providers: [
    AccountsService,
    UsersRepository,
    LoginThrottle,
    LoginThrottleSweeper,
    { provide: OrganizationStateVerifier, useExisting: AccountsService },
  ],
  exports: [AccountsService, OrganizationStateVerifier],
})
export class AccountsModule {}
