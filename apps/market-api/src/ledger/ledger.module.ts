import { Module } from '@nestjs/common';
import { LedgerBalanceMonitor } from './ledger-balance.monitor.js';
import { LedgerController } from './ledger.controller.js';
import { LedgerService } from './ledger.service.js';
import { WalletController } from './wallet.controller.js';
import { WalletService } from './wallet.service.js';

/** The double-entry ledger, wallets, and the periodic trial-balance check. */
@Module({
  controllers: [WalletController, LedgerController],
  providers: [LedgerService, WalletService, LedgerBalanceMonitor],
  exports: [LedgerService, WalletService],
})
export class LedgerModule {}
