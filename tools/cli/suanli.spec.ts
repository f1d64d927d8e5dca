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

  it('lease access: refuses a malformed lease id before calling the API', () => {
    const bad = run('lease', 'access', 'not-a-uuid');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('give "access <lease id>"');
  });

  it('checks a CRI offline and names the expected check character', () => {
    const ok = run('cri', 'check', 'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, handle: '86.N00.E00001/00000A' });
    const bad = run('cri', 'check', 'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:1');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("expected '0'");
  });

  const VECTORS = [
    'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U',
    'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0',
    'CRI1:86.I05.E0A1B2:C:CN-NM.WLC:GEN-VM:C8.M32:000001:5',
  ];

  it('validates codes: one line per code, exit 0 only when all are valid', () => {
    const ok = run('cri', 'validate', ...VECTORS);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe('valid\nvalid\nvalid\n');
    const mixed = run(
      'cri',
      'validate',
      VECTORS[0] as string,
      'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:1',
      'CRI1:86.N00.E00001:m:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0',
      'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:M256.C64:00000A:0',
      'CRI1:86.N00.E00001:M:CN-BJ.HD1:QPU-JOB:C64.M256:00000A:0',
    );
    expect(mixed.status).toBe(1);
    expect(mixed.stdout.trimEnd().split('\n')).toEqual([
      'valid',
      "invalid: check: check character is '1', expected '0'",
      'invalid: industry: "m" must be one GB/T 4754 section letter A..T',
      expect.stringMatching(/^invalid: spec: token "C64" out of order/),
      expect.stringMatching(/^invalid: class: "QPU" must be one of GEN, AI, HPC$/),
    ]);
    expect(run('cri', 'validate').status).toBe(2);
  });

  it('computes the check character of a code without one', () => {
    for (const v of VECTORS) {
      const r = run('cri', 'check-char', v.slice(0, -2));
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${v.slice(-1)}\n`);
    }
    const bad = run('cri', 'check-char', 'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C064.M256:00000A');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('invalid: spec:');
  });

  it('explains the decoded fields', () => {
    const r = run('cri', 'explain', VECTORS[0] as string);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^registrant\s+86\.R03\.E00042\s+root 86, regional platform R03/m);
    expect(r.stdout).toMatch(/^spec\s+C96\.M1536\.G8-H200\s+96 vCPU, 1536 GiB memory, 8 x H200/m);
    expect(r.stdout).toMatch(/^handle\s+86\.R03\.E00042\/000137/m);
    const json = run('cri', 'explain', '--json', VECTORS[1] as string);
    expect(JSON.parse(json.stdout)).toEqual(
      expect.arrayContaining([{ field: 'class', value: 'HPC', meaning: 'supercomputing (超算)' }]),
    );
    const bad = run('cri', 'explain', 'CRI2:x');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('invalid: scheme:');
  });

  it('rejects an unknown command with exit code 2', () => {
    expect(run('frobnicate').status).toBe(2);
  });
});
