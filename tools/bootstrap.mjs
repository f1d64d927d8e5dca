#!/usr/bin/env node
// Installs npm dependencies when they are missing or older than package-lock.json.
// Runs before `npm start` / `npm test`, so it must not import anything outside Node itself.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
const mutex = join(root, '.local', 'run', 'bootstrap.lock');

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function reason() {
  if (!existsSync(join(root, 'node_modules'))) return 'node_modules is missing';
  const installedAt = mtime(installed);
  if (installedAt === undefined) return 'node_modules/.package-lock.json is missing';
  const lockedAt = mtime(lockFile);
  if (lockedAt !== undefined && lockedAt > installedAt) return 'package-lock.json changed';
  return undefined;
}

function npm(args) {
  // Under `npm run`, npm_execpath is the npm CLI that started us; use the same one.
  const cli = process.env.npm_execpath;
  const [cmd, argv] =
    cli && /\.(c|m)?js$/.test(cli) ? [process.execPath, [cli, ...args]] : ['npm', args];
  console.log(`[bootstrap] npm ${args.join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.error) console.error(`[bootstrap] could not run npm: ${r.error.message}`);
  return r.status === 0;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// Several people or processes may run `npm test` in the same checkout at once: only one installs.
function withLock(fn) {
  mkdirSync(dirname(mutex), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(mutex);
      writeFileSync(join(mutex, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(mutex, 'pid'), 'utf8'));
      } catch {
        // being created right now
      }
      if ((Number.isInteger(owner) && owner > 0 && !alive(owner)) || waited > 15 * 60_000) {
        rmSync(mutex, { recursive: true, force: true });
        continue;
      }
      if (waited === 0) console.log('[bootstrap] waiting for another install to finish');
      sleep(200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(mutex, { recursive: true, force: true });
  }
}

if (reason() !== undefined) {
  const ok = withLock(() => {
    const why = reason();
    if (why === undefined) return true;
    console.log(`[bootstrap] installing dependencies: ${why}`);
    const done =
      npm(['ci', '--no-audit', '--no-fund']) || npm(['install', '--no-audit', '--no-fund']);
    // Mark the install as current even if npm rewrote package-lock.json after the hidden lockfile.
    if (done && existsSync(installed)) {
      const now = new Date();
      utimesSync(installed, now, now);
    }
    return done;
  });
  if (!ok) {
    console.error('[bootstrap] npm install failed; see the output above');
    process.exit(1);
  }
}
