import { Module } from '@nestjs/common';
import { PrivacyModule } from '../privacy/privacy.module.js';
import { AccountsController } from './accounts.controller.js';
import { AccountsService } from './accounts.service.js';
import { UsersRepository } from './users.repository.js';

/** Organizations, users, log-in and refresh tokens. */
@Module({
  imports: [PrivacyModule],
  controllers: [AccountsController],
  providers: [AccountsService, UsersRepository],
  exports: [AccountsService],
})
export class AccountsModule {}
