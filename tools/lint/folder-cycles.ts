// `npm run lint:cycles`: proves that the feature folders of an app import each other without a
// cycle. Each directory given is split into its top-level folders (a feature: `ledger/`,
// `settlement/`, …); files directly in it are the composition root (app.module.ts, main.ts),
// which may import any folder but which no folder may import. Every relative import of shipped
// TypeScript counts; tests (`*.spec.ts`, `*.int-spec.ts`) and test support (`testing/`) do not,
// since they wire features together on purpose (as the Nx app/lib boundary exempts them). Exit 1 with each cycle (a strongly connected set of folders and one file
// import per edge) when there is one; exit 0 with a count otherwise.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = '.';

interface Edge {
  from: string;
  to: string;
  /** One import that makes the edge: `file -> specifier`. */
  example: string;
}

const isTest = (path: string): boolean =>
  /\.(spec|int-spec|e2e-spec)\.tsx?$|\.d\.ts$/.test(path) || path.split(sep).includes('testing');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (/\.tsx?$/.test(name) && !isTest(p)) out.push(p);
  }
  return out;
}

/** The folder a path belongs to under `root`: its first segment, or ROOT for a file at the top. */
function folderOf(root: string, file: string): string | undefined {
  const rel = relative(root, file);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(sep);
  return parts.length === 1 ? ROOT : parts[0];
}

export function folderEdges(root: string): Edge[] {
  const edges = new Map<string, Edge>();
  for (const file of tsFiles(root)) {
    const from = folderOf(root, file)!;
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const to = folderOf(root, resolve(dirname(file), ref.fileName));
      if (to === undefined || to === from) continue;
      const key = `${from}\0${to}`;
      if (!edges.has(key)) {
        edges.set(key, { from, to, example: `${relative(root, file)} -> ${ref.fileName}` });
      }
    }
  }
  return [...edges.values()];
}

/** Tarjan's strongly connected components; every component of more than one folder is a cycle. */
export function folderCycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    if (!next.has(e.to)) next.set(e.to, []);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) cycles.push(scc.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const roots = process.argv.slice(2);
  if (roots.length === 0) {
    console.error('usage: folder-cycles.ts <src dir>...');
    process.exit(2);
  }
  let failed = false;
  for (const root of roots) {
    const edges = folderEdges(root);
    const cycles = folderCycles(edges);
    const folders = new Set(edges.flatMap((e) => [e.from, e.to]));
    if (cycles.length === 0) {
      console.log(`${root}: no folder cycles (${folders.size} folders, ${edges.length} edges)`);
      continue;
    }
    failed = true;
    for (const scc of cycles) {
      console.error(`${root}: folder cycle among ${scc.join(', ')}`);
      for (const e of edges) {
        if (scc.includes(e.from) && scc.includes(e.to)) {
          console.error(`  ${e.from} -> ${e.to}  (${e.example})`);
        }
      }
    }
  }
  process.exit(failed ? 1 : 0);
}
