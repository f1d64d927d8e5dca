// `suanli agent …`: runs the metering agent (apps/metering/src/agent/main.ts) as a child process
// with the same flags, forwarding SIGINT/SIGTERM so it drains and saves its spool.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const AGENT_MAIN = join(root, 'apps', 'metering', 'src', 'agent', 'main.ts');

export function runAgent(args: string[]): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', AGENT_MAIN, ...args],
    { stdio: 'inherit', env: process.env },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.once('error', () => resolve(1));
  });
}
