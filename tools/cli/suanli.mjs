#!/usr/bin/env node
// The `suanli` command: a thin launcher that runs the TypeScript CLI from source.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The TypeScript loader, resolved from this file (not the working directory), so that
// `suanli` works from any directory.
const loader = import.meta.resolve('@swc-node/register/esm');
const register = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(loader)});`;
const r = spawnSync(
  process.execPath,
  ['--import', register, join(here, 'main.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    cwd: process.cwd(),
    env: { ...process.env, SWC_NODE_PROJECT: join(here, '..', '..', 'tsconfig.json') },
  },
);
process.exit(r.status ?? 1);
