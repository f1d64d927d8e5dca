import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'suanli.mjs');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('suanli CLI', () => {
  it('prints help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage:');
    expect(r.stdout).toContain('cri check');
  });

  it('checks a CRI offline and names the expected check character', () => {
    const ok = run('cri', 'check', 'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, handle: '86.N00.E00001/00000A' });
    const bad = run('cri', 'check', 'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:1');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("expected '0'");
  });

  it('rejects an unknown command with exit code 2', () => {
    expect(run('frobnicate').status).toBe(2);
  });
});
