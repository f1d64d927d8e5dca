// `npm run pkg -- [npm] [deb] [--out DIR] [--deb-version V]`: builds the installable packages
// (docs/packaging.md):
//   - npm tarballs: `@suanli/cli` (the `suanli` command with the metering agent, bundled by
//     esbuild into two files; lz4-napi, a native module, stays a dependency) and `@suanli/sdk`
//     (the typed market API client of libs/api-client: an esbuild bundle plus tsc declarations;
//     openapi-fetch stays a dependency because the declarations name its types), packed by
//     `npm pack`;
//   - the metering agent's Debian package `suanli-agent` (tools/pkg/deb/), by `dpkg-deb --build`.
// Versions come from tools/cli/package.json and libs/api-client/package.json (their
// CHANGELOG.md says what each version changed); the Debian package has the CLI's version.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEB_SOURCES = join(ROOT, 'tools', 'pkg', 'deb');
export const DEFAULT_OUT = join(ROOT, 'dist', 'pkg');

interface Manifest {
  name: string;
  version: string;
  description?: string;
  dependencies?: Record<string, string>;
}
const manifest = (path: string): Manifest =>
  JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8')) as Manifest;
/** The version of a dependency as installed in this checkout (what the tests ran with). */
const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as Manifest)
    .version;

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

/** Native modules cannot be bundled: they are installed beside the bundle. */
const NATIVE = ['lz4-napi'];

/** Bundles one entry point into one ES module for Node 20 (CommonJS dependencies included). */
async function bundle(entry: string, outfile: string, opts: { shebang?: boolean } = {}) {
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: NATIVE,
    define: { SUANLI_PACKAGED: 'true' },
    // Bundled CommonJS dependencies call require(); give them one in the ES module.
    banner: {
      js:
        (opts.shebang ? '#!/usr/bin/env node\n' : '') +
        "import { createRequire as __suanliRequire } from 'node:module';\n" +
        'const require = __suanliRequire(import.meta.url);',
    },
    legalComments: 'linked',
    logLevel: 'warning',
  });
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function pack(stage: string, out: string): string {
  const json = run('npm', ['pack', '--json', '--pack-destination', out], stage);
  const [{ filename }] = JSON.parse(json) as { filename: string }[];
  rmSync(stage, { recursive: true, force: true });
  return join(out, filename);
}

const COMMON = {
  license: 'UNLICENSED',
  type: 'module',
  engines: { node: '>=20.6' },
  repository: { type: 'git', url: 'https://github.com/suanli-exchange/suanli-exchange' },
};

/** `@suanli/cli`: `suanli` and `suanli agent` from two bundles. */
export async function buildCliTarball(out: string): Promise<string> {
  const m = manifest('tools/cli');
  const stage = join(out, 'stage', 'cli');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  await bundle('tools/cli/main.ts', join(stage, 'suanli.mjs'), { shebang: true });
  chmodSync(join(stage, 'suanli.mjs'), 0o755);
  await bundle('apps/metering/src/agent/main.ts', join(stage, 'agent.mjs'));
  for (const f of ['README.md', 'CHANGELOG.md']) cpSync(join(ROOT, 'tools/cli', f), join(stage, f));
  writeJson(join(stage, 'package.json'), {
    name: m.name,
    version: m.version,
    description: 'Suanli Exchange command-line tool and metering agent (suanli, suanli agent)',
    ...COMMON,
    bin: { suanli: './suanli.mjs' },
    files: ['suanli.mjs', 'agent.mjs', '*.LEGAL.txt', 'README.md', 'CHANGELOG.md'],
    dependencies: Object.fromEntries(NATIVE.map((n) => [n, installedVersion(n)])),
  });
  return pack(stage, out);
}

/** `@suanli/sdk`: the typed market API client. */
export async function buildSdkTarball(out: string): Promise<string> {
  const m = manifest('libs/api-client');
  const stage = join(out, 'stage', 'sdk');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'dist'), { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'libs/api-client/src/index.ts')],
    outfile: join(stage, 'dist', 'index.js'),
    bundle: true,
    platform: 'neutral',
    target: 'es2022',
    format: 'esm',
    external: ['openapi-fetch'],
    logLevel: 'warning',
  });
  run(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      join(ROOT, 'libs/api-client/src/index.ts'),
      ...['--ignoreConfig', '--declaration', '--emitDeclarationOnly', '--skipLibCheck', '--strict'],
      ...['--types', 'node'],
      ...['--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022'],
      ...['--rootDir', join(ROOT, 'libs/api-client/src'), '--outDir', join(stage, 'dist')],
    ],
    ROOT,
  );
  for (const f of ['README.md', 'CHANGELOG.md']) {
    cpSync(join(ROOT, 'libs/api-client', f), join(stage, f));
  }
  writeJson(join(stage, 'package.json'), {
    name: '@suanli/sdk',
    version: m.version,
    description: 'Typed client of the Suanli Exchange market API (/v1), from its OpenAPI document',
    ...COMMON,
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    types: './dist/index.d.ts',
    files: ['dist', 'README.md', 'CHANGELOG.md'],
    dependencies: { 'openapi-fetch': `^${installedVersion('openapi-fetch')}` },
  });
  return pack(stage, out);
}

/** Copies an installed package, its dependencies and its platform's optional binary. */
function copyInstalled(name: string, dest: string): void {
  const from = join(ROOT, 'node_modules', name);
  cpSync(from, join(dest, name), { recursive: true });
  const m = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as Manifest & {
    optionalDependencies?: Record<string, string>;
  };
  for (const dep of Object.keys(m.optionalDependencies ?? {})) {
    // Only this platform's binary is installed.
    if (existsSync(join(ROOT, 'node_modules', dep))) copyInstalled(dep, dest);
  }
  for (const dep of Object.keys(m.dependencies ?? {})) copyInstalled(dep, dest);
}

/** The Debian architecture of this machine (the native lz4 binary is per platform). */
const debArch = (): string => run('dpkg', ['--print-architecture'], ROOT).trim();

/**
 * `suanli-agent_<version>_<arch>.deb`: the bundled agent in /usr/lib/suanli-agent, the systemd
 * unit, sysusers.d / tmpfiles.d entries and the maintainer scripts of tools/pkg/deb/.
 */
export async function buildDeb(out: string, version = manifest('tools/cli').version) {
  const arch = debArch();
  const tree = join(out, 'stage', `suanli-agent_${version}`);
  rmSync(tree, { recursive: true, force: true });
  const lib = join(tree, 'usr', 'lib', 'suanli-agent');
  mkdirSync(join(lib, 'node_modules'), { recursive: true });
  await bundle('apps/metering/src/agent/main.ts', join(lib, 'agent.mjs'));
  for (const n of NATIVE) copyInstalled(n, join(lib, 'node_modules'));
  const place = (from: string, to: string, mode = 0o644) => {
    mkdirSync(dirname(join(tree, to)), { recursive: true });
    cpSync(join(DEB_SOURCES, from), join(tree, to));
    chmodSync(join(tree, to), mode);
  };
  place('suanli-agent.service', 'usr/lib/systemd/system/suanli-agent.service');
  place('sysusers.conf', 'usr/lib/sysusers.d/suanli-agent.conf');
  place('tmpfiles.conf', 'usr/lib/tmpfiles.d/suanli-agent.conf');
  place('agent.json.example', 'etc/suanli-agent/agent.json.example', 0o640);
  place('agent.env', 'etc/suanli-agent/agent.env', 0o640);
  place('copyright', 'usr/share/doc/suanli-agent/copyright');
  cpSync(
    join(ROOT, 'tools/cli/CHANGELOG.md'),
    join(tree, 'usr/share/doc/suanli-agent/CHANGELOG.md'),
  );
  mkdirSync(join(tree, 'DEBIAN'));
  for (const script of ['postinst', 'prerm', 'postrm']) place(script, `DEBIAN/${script}`, 0o755);
  place('conffiles', 'DEBIAN/conffiles');
  const installedKiB = Math.ceil(
    Number(run('du', ['-sk', '--exclude=DEBIAN', '.'], tree).split('\t')[0]),
  );
  writeFileSync(
    join(tree, 'DEBIAN', 'control'),
    readFileSync(join(DEB_SOURCES, 'control'), 'utf8')
      .replace('@VERSION@', version)
      .replace('@ARCH@', arch)
      .replace('@SIZE@', String(installedKiB)),
  );
  const deb = join(out, `suanli-agent_${version}_${arch}.deb`);
  // Files owned by root in the archive whoever builds it.
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', tree, deb], ROOT);
  rmSync(tree, { recursive: true, force: true });
  return deb;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: 'string' }, 'deb-version': { type: 'string' } },
  });
  const out = resolve(values.out ?? DEFAULT_OUT);
  mkdirSync(out, { recursive: true });
  const what = positionals.length > 0 ? positionals : ['npm', 'deb'];
  for (const w of what) {
    if (w === 'npm') {
      console.log(await buildCliTarball(out));
      console.log(await buildSdkTarball(out));
    } else if (w === 'deb') {
      console.log(await buildDeb(out, values['deb-version']));
    } else {
      console.error(`unknown package kind ${w} (npm, deb)`);
      return 2;
    }
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
