// Whether the storefront's production build (apps/web/.next) is older than its sources: one
// answer for `npm start` and the e2e tests (test/support/web.ts), so that either reuses the
// build the other made.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const WEB_DIR = join(ROOT, 'apps', 'web');
/** The web app and the workspace libraries (it imports several; any change may matter). */
const SOURCES = [WEB_DIR, join(ROOT, 'libs')];
const SKIP = new Set(['.next', 'node_modules', 'dist', 'next-env.d.ts', '.turbo']);

function newestMtime(dir: string): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (SKIP.has(entry.name) || entry.name.endsWith('.tsbuildinfo')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The storefront's build command: webpack, because the workspace libraries import NodeNext style
 * (`./x.js` for `x.ts`) and only webpack maps that (apps/web/next.config.ts).
 */
export const NEXT_BUILD_ARGS = ['build', '--webpack'];

/** `next build` is needed: there is no build, or a source is newer than it. */
export function webBuildIsStale(): boolean {
  const built = statSync(join(WEB_DIR, '.next', 'BUILD_ID'), { throwIfNoEntry: false });
  if (!built) return true;
  return SOURCES.some((dir) => newestMtime(dir) > built.mtimeMs);
}
