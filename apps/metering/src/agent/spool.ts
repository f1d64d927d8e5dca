// The agent's on-disk spool: one append-only file per agent, one line per signed batch
// (`{"seq":…,"batchId":…,"jws":…}`), written (and fsynced) before the batch is sent. The spool is
// the chain's source of truth: whatever is in it is sent, in order and byte for byte, however
// long Kafka is unreachable and across restarts. Acknowledged lines are dropped when the file is
// compacted (everything acknowledged, or large).
import { mkdirSync, openSync, closeSync, fsyncSync, writeSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface SpooledBatch {
  seq: number;
  batchId: string;
  jws: string;
}

export class Spool {
  private entries: SpooledBatch[] = [];
  private loaded = false;
  private lines = 0;

  /** `file` undefined: an in-memory spool (tests, or an agent without a state directory). */
  constructor(private readonly file: string | undefined) {}

  /** Reads the file (a torn last line, from a crash mid-write, is ignored: it was never sent). */
  async load(): Promise<SpooledBatch[]> {
    if (this.loaded) return this.entries;
    this.loaded = true;
    if (this.file === undefined) return this.entries;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.entries;
      throw err;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.lines++;
      try {
        const e = JSON.parse(line) as SpooledBatch;
        if (Number.isSafeInteger(e.seq) && typeof e.jws === 'string') this.entries.push(e);
      } catch {
        // torn write at a crash
      }
    }
    return this.entries;
  }

  /** Appends a signed batch durably (fsync) before anyone may send it. */
  async append(entry: SpooledBatch): Promise<void> {
    await this.load();
    if (this.file !== undefined) {
      mkdirSync(dirname(this.file), { recursive: true });
      const fd = openSync(this.file, 'a', 0o600);
      try {
        writeSync(fd, JSON.stringify(entry) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.lines++;
    }
    this.entries.push(entry);
  }

  /** Spooled batches with seq > `ackedSeq`, in order. */
  async unacked(ackedSeq: number): Promise<SpooledBatch[]> {
    return (await this.load()).filter((e) => e.seq > ackedSeq);
  }

  /** The last spooled batch (the chain's head), if any. */
  async last(): Promise<SpooledBatch | undefined> {
    const all = await this.load();
    return all[all.length - 1];
  }

  /**
   * Drops acknowledged batches from the file when everything is acknowledged or the file holds
   * more than `maxLines` lines (atomic rewrite: temp file + rename).
   */
  async compact(ackedSeq: number, maxLines = 1000): Promise<void> {
    await this.load();
    const keep = this.entries.filter((e) => e.seq > ackedSeq);
    if (keep.length === this.entries.length) return;
    if (keep.length > 0 && this.lines <= maxLines) return;
    // Keep the head so the chain can be recovered from the spool alone.
    const head = this.entries[this.entries.length - 1];
    const next = keep.length > 0 ? keep : head !== undefined ? [head] : [];
    if (this.file !== undefined) {
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, next.map((e) => JSON.stringify(e) + '\n').join(''), { mode: 0o600 });
      await rename(tmp, this.file);
    }
    this.entries = next;
    this.lines = next.length;
  }
}
