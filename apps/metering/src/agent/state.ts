import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ZERO_HASH } from '@suanli/contracts';

/** What an agent must remember across restarts to continue its chain. */
export interface AgentState {
  /** The seq of the next new batch. */
  nextSeq: number;
  /** SHA-256 of the last batch's JWS (the next batch's `prev`). */
  prev: string;
  /** The highest seq Kafka acknowledged (−1: none); later spooled batches are still to send. */
  ackedSeq: number;
  /** Legacy (before the spool): a signed batch not yet acknowledged, moved into the spool. */
  pending?: { batchId: string; seq: number; jws: string } | null;
}

export const INITIAL_STATE: AgentState = { nextSeq: 0, prev: ZERO_HASH, ackedSeq: -1 };

export async function loadState(file: string | undefined): Promise<AgentState> {
  if (file === undefined) return { ...INITIAL_STATE };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...INITIAL_STATE };
    throw err;
  }
  const s = JSON.parse(text) as Partial<AgentState>;
  if (
    typeof s.nextSeq !== 'number' ||
    !Number.isSafeInteger(s.nextSeq) ||
    typeof s.prev !== 'string' ||
    !/^[0-9a-f]{64}$/.test(s.prev)
  ) {
    throw new Error(`agent state file ${file} is corrupt`);
  }
  const pending = s.pending ?? null;
  const ackedSeq =
    typeof s.ackedSeq === 'number'
      ? s.ackedSeq
      : pending !== null
        ? pending.seq - 1
        : s.nextSeq - 1;
  return { nextSeq: s.nextSeq, prev: s.prev, ackedSeq, pending };
}

/** Writes the state atomically (temp file + rename) so a crash never leaves half a file. */
export async function saveState(file: string | undefined, state: AgentState): Promise<void> {
  if (file === undefined) return;
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const { nextSeq, prev, ackedSeq } = state;
  await writeFile(tmp, JSON.stringify({ nextSeq, prev, ackedSeq }), { mode: 0o600 });
  await rename(tmp, file);
}
