import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { NUMERIC } from '../common/columns.js';

/**
 * The platform's fee schedule, one row per change (never updated): the newest row whose
 * `effective_from` has passed is the take rate new leases get. Without rows, TAKE_RATE applies.
 */
@Entity('fee_schedule')
export class FeeScheduleEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'take_rate', ...NUMERIC }) takeRate!: string;
  @Index() @Column({ name: 'effective_from', type: 'timestamptz' }) effectiveFrom!: Date;
  @Column({ type: 'text', default: '' }) note!: string;
  @Column({ name: 'set_by_user_id', type: 'uuid' }) setByUserId!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
