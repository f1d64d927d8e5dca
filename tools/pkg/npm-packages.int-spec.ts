// The npm tarballs as an outside developer gets them (docs/packaging.md): built by
// `npm run pkg -- npm`'s code, installed with `npm install <tarball>` into an empty directory
// outside the checkout, then `npx suanli --help`, `npx suanli agent --help`, and a program
// type-checked against the installed `@suanli/sdk` declarations calls the real market API.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sellerWithOffer } from '../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../test/support/market-api.js';
import { buildCliTarball, buildSdkTarball } from './build.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** This process's environment without what `npm test` adds (npm_config_* would steer npm). */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(cmd, args, { cwd, env: { ...cleanEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

let out: string;
let app: string;
let api: TestMarketApi;
let cli: string;
let sdk: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'suanli-pkg-'));
  app = await mkdtemp(join(tmpdir(), 'suanli-outside-'));
  [cli, sdk] = [await buildCliTarball(out), await buildSdkTarball(out)];
  api = await startMarketApi();
}, 240_000);

afterAll(async () => {
  await api?.close();
  await rm(out, { recursive: true, force: true });
  await rm(app, { recursive: true, force: true });
});

describe('npm packages', () => {
  it('carry their versions and changelogs', () => {
    expect(cli).toMatch(/suanli-cli-\d+\.\d+\.\d+\.tgz$/);
    expect(sdk).toMatch(/suanli-sdk-\d+\.\d+\.\d+\.tgz$/);
  });

  it('install with npm into an empty directory outside the checkout and run', async () => {
    await writeFile(join(app, 'package.json'), '{ "name": "outside", "private": true }\n');
    const install = await sh(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', cli, sdk],
      app,
    );
    expect(install.stderr).not.toMatch(/ERR!/);
    expect(install.code).toBe(0);
    const installed = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(installed.dependencies).sort()).toEqual(['@suanli/cli', '@suanli/sdk']);
    for (const f of ['CHANGELOG.md', 'README.md']) {
      await expect(readFile(join(app, 'node_modules/@suanli/cli', f), 'utf8')).resolves.toMatch(
        /^# /,
      );
      await expect(readFile(join(app, 'node_modules/@suanli/sdk', f), 'utf8')).resolves.toMatch(
        /^# /,
      );
    }

    const help = await sh('npx', ['--no-install', 'suanli', '--help'], app);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('suanli — Suanli Exchange');
    const agentHelp = await sh('npx', ['--no-install', 'suanli', 'agent', '--help'], app);
    expect(agentHelp.stderr).toBe('');
    expect(agentHelp.code).toBe(0);
    expect(agentHelp.stdout).toContain('suanli agent — the metering agent');
    // A command that does work offline, from the bundle.
    const valid = await sh(
      'npx',
      [
        '--no-install',
        'suanli',
        'cri',
        'validate',
        'CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0',
      ],
      app,
    );
    expect(valid).toMatchObject({ code: 0, stdout: 'valid\n' });
  }, 240_000);

  it('the SDK types a call against the running API, and rejects a wrong one', async () => {
    const { offer } = await sellerWithOffer(api, { title: 'SDK H100' });
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          types: [],
          strict: true,
          skipLibCheck: true,
          outDir: 'out',
        },
        files: ['call.ts'],
      }),
    );
    await writeFile(
      join(app, 'package.json'),
      '{ "name": "outside", "private": true, "type": "module" }\n',
    );
    await writeFile(
      join(app, 'call.ts'),
      `import { createMarketApiClient, type components } from '@suanli/sdk';
declare const process: { argv: string[] };
const [baseUrl, offerId] = [process.argv[2], process.argv[3]];
const api = createMarketApiClient({ baseUrl });
const { data, error, response } = await api.GET('/v1/offers/{id}', {
  params: { path: { id: offerId } },
});
if (error !== undefined) throw new Error(JSON.stringify(error));
const offer: components['schemas']['OfferView'] = data;
console.log(JSON.stringify({ status: response.status, id: offer.id, title: offer.title }));
`,
    );
    const tsc = await sh(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
    const call = await sh(process.execPath, [join('out', 'call.js'), api.url, offer.id], app);
    expect(call.stderr).toBe('');
    expect(JSON.parse(call.stdout)).toEqual({ status: 200, id: offer.id, title: 'SDK H100' });

    // The types are the API's: an unknown path and a missing path parameter do not compile.
    await writeFile(
      join(app, 'call.ts'),
      `import { createMarketApiClient } from '@suanli/sdk';
const api = createMarketApiClient({ baseUrl: 'http://127.0.0.1' });
await api.GET('/v1/no-such-path');
await api.GET('/v1/offers/{id}', {});
`,
    );
    const wrong = await sh(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toMatch(/call\.ts\(3,\d+\): error/);
    expect(wrong.stdout).toMatch(/call\.ts\(4,\d+\): error[^\n]*\n[^\n]*'params' is missing/);
  }, 120_000);
});
