import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, LessThanOrEqual } from 'typeorm';
import type { FeeChangeView, FeesView, SetFeesRequest } from '@suanli/contracts';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/clock.js';
import { FeeScheduleEntity } from './fees.entities.js';

/** "0.050000000" (numeric(38,9)) → "0.05": trailing zeros dropped, never through a float. */
function trimRate(value: string): string {
  return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
}

function changeView(row: FeeScheduleEntity): FeeChangeView {
  return {
    takeRate: trimRate(row.takeRate),
    effectiveFrom: row.effectiveFrom.toISOString(),
    note: row.note,
    setByUserId: row.setByUserId,
  };
}

/** The platform fee schedule: operators set the take rate new leases are priced with. */
@Injectable()
export class FeesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The take rate a lease created now gets (the newest effective change, else TAKE_RATE). */
  async currentTakeRate(m: EntityManager = this.db.manager): Promise<string> {
    const row = await m.getRepository(FeeScheduleEntity).findOne({
      where: { effectiveFrom: LessThanOrEqual(this.clock.now()) },
      order: { effectiveFrom: 'DESC', createdAt: 'DESC' },
    });
    return row ? trimRate(row.takeRate) : this.config.takeRate;
  }

  async view(): Promise<FeesView> {
    const rows = await this.db.getRepository(FeeScheduleEntity).find({
      order: { effectiveFrom: 'DESC', createdAt: 'DESC' },
      take: 50,
    });
    const current = rows.find((r) => r.effectiveFrom <= this.clock.now());
    return {
      takeRate: current ? trimRate(current.takeRate) : this.config.takeRate,
      source: current ? 'schedule' : 'default',
      history: rows.map(changeView),
    };
  }

  /** Takes effect at once for new leases; existing leases keep the rate they were sold at. */
  async set(userId: string, req: SetFeesRequest): Promise<FeesView> {
    await this.db.getRepository(FeeScheduleEntity).save({
      takeRate: req.takeRate,
      effectiveFrom: this.clock.now(),
      note: req.note ?? '',
      setByUserId: userId,
    });
    return this.view();
  }
}
