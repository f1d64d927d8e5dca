import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A stored answer to a money-moving POST, so that a retry returns the first answer. */
@Entity('idempotency_keys')
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'scope', type: 'text' }) scope!: string;
  @PrimaryColumn({ name: 'key', type: 'text' }) key!: string;
  @Column({ name: 'request_hash', type: 'text' }) requestHash!: string;
  @Column({ name: 'status_code', type: 'int', nullable: true }) statusCode!: number | null;
  @Column({ name: 'response_body', type: 'jsonb', nullable: true }) responseBody!: unknown;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
