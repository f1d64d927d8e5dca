// The dead-letter outbox: rows of usage_dead_letters not yet on the DLQ topic are published after
// the transaction that wrote them committed, and marked. A crash between the two republishes
// (at least once; consumers dedupe on the `event-id` header, stable per row).
import type { Producer } from 'kafkajs';
import type { Pool } from 'pg';
import {
  HEADER_EVENT_ID,
  HEADER_SCHEMA_VERSION,
  type DlqReason,
  type UsageDeadLetter,
} from '@suanli/contracts';

interface Row {
  id: string;
  dedupe_key: string | null;
  reason: DlqReason;
  detail: string;
  agent_id: string | null;
  seq: string | null;
  event_id: string | null;
  event: unknown;
  raw: string | null;
  created_at: Date;
}

export function toDeadLetter(r: Row): UsageDeadLetter {
  return {
    schemaVersion: 1,
    eventId: r.event_id ?? r.dedupe_key ?? `dead-letter-${r.id}`,
    reason: r.reason,
    detail: r.detail,
    agent: r.agent_id,
    seq: r.seq === null ? null : Number(r.seq),
    event: r.event ?? null,
    raw: r.raw,
    at: r.created_at.toISOString(),
  };
}

/** Publishes every unpublished dead letter (in chunks); returns how many were published. */
export async function publishPendingDeadLetters(
  pool: Pool,
  producer: Producer,
  topic: string,
  chunk = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Row>(
        `SELECT id, dedupe_key, reason, detail, agent_id, seq, event_id, event, raw, created_at
           FROM usage_dead_letters WHERE published_at IS NULL
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [chunk],
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return total;
      }
      await producer.send({
        topic,
        messages: rows.map((r) => ({
          key: r.agent_id ?? 'unknown',
          value: JSON.stringify(toDeadLetter(r)),
          headers: {
            [HEADER_EVENT_ID]: `dead-letter:${r.dedupe_key ?? r.id}`,
            [HEADER_SCHEMA_VERSION]: '1',
          },
        })),
      });
      await client.query(
        'UPDATE usage_dead_letters SET published_at = now() WHERE id = ANY($1::bigint[])',
        [rows.map((r) => r.id)],
      );
      await client.query('COMMIT');
      total += rows.length;
      if (rows.length < chunk) return total;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
