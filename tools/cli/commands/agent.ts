// `suanli agent …`: runs the metering agent (apps/metering/src/agent/main.ts) as a child process
// with the same flags, forwarding SIGINT/SIGTERM so it drains and saves its spool. In the npm
// package (tools/pkg/build.ts) the agent is the bundled `agent.mjs` beside the bundled CLI.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Replaced with `true` by the package build (esbuild `define`); undeclared in the checkout. */
declare const SUANLI_PACKAGED: boolean | undefined;
const packaged = typeof SUANLI_PACKAGED !== 'undefined' && SUANLI_PACKAGED;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
export const AGENT_MAIN = join(root, 'apps', 'metering', 'src', 'agent', 'main.ts');

export function runAgent(args: string[]): Promise<number> {
  const argv = packaged
    ? [join(here, 'agent.mjs'), ...args]
    : ['--import', '@swc-node/register/esm-register', AGENT_MAIN, ...args];
  const child = spawn(process.execPath, argv, { stdio: 'inherit', env: process.env });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.once('error', () => resolve(1));
  });
}
