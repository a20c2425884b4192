import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Guards the server's module layering (issue #12): shared types live in types.ts, so no import circle (type-only
// imports included, since they still tie the files together) and no import from a higher-level module.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/server');

/** Low-level modules, and the modules above them they must never import. */
const LOW_LEVEL = ['types.ts', 'replay-buffer.ts', 'session.ts', 'session-store.ts', 'bus.ts', 'session-journal.ts'];
const HIGH_LEVEL = ['realtime-server.ts', 'websocket-handler.ts', 'sse-handler.ts', 'polling-handler.ts', 'send-handler.ts', 'index.ts'];

// `import x from`, `import type { a } from`, `export * from`, `export type { a } from` (braces may span lines), a bare
// `import './x'` and a dynamic `import('./x')`.
const SPECIFIER = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of `file` that resolve to a file under src/server, as paths relative to it. */
function serverImports(file: string, known: Set<string>): string[] {
  const found = new Set<string>();
  for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    const spec = match[1] ?? match[2] ?? match[3] ?? '';
    if (!spec.startsWith('.')) continue;
    const base = resolve(dirname(file), spec);
    const target = [`${base}.ts`, join(base, 'index.ts'), base].find((p) => known.has(relative(ROOT, p)));
    if (target) found.add(relative(ROOT, target));
  }
  return [...found];
}

function importGraph(): Map<string, string[]> {
  const files = tsFiles(ROOT);
  const known = new Set(files.map((f) => relative(ROOT, f)));
  return new Map(files.map((f) => [relative(ROOT, f), serverImports(f, known)]));
}

/** One import circle as `a → b → … → a`, or null. Depth-first search; a grey node met again closes a circle. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'grey' | 'black'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'grey');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'grey') return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    path.pop();
    state.set(node, 'black');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('src/server import graph', () => {
  const graph = importGraph();

  it('reads the imports it is meant to guard', () => {
    // A regex that stopped matching would make every other check here pass vacuously.
    expect(graph.get('index.ts')).toContain('realtime-server.ts');
    expect(graph.get('redis/session-log.ts')).toContain('redis/session-log-scripts.ts');
  });

  it('has no import circle, type imports included', () => {
    const cycle = findCycle(graph);
    expect(cycle, cycle ? `import circle: ${cycle.join(' → ')}` : '').toBeNull();
  });

  it('keeps top-level server modules off the Redis adapter', () => {
    const topLevel = [...graph].filter(([file]) => !file.includes('/'));
    const offending = topLevel.flatMap(([file, deps]) => deps.filter((d) => d.startsWith('redis/')).map((d) => `${file} → ${d}`));
    expect(offending).toEqual([]);
  });

  it('keeps low-level modules off the server, the transport handlers and the index', () => {
    const offending = LOW_LEVEL.flatMap((file) => (graph.get(file) ?? []).filter((d) => HIGH_LEVEL.includes(d)).map((d) => `${file} → ${d}`));
    expect(offending).toEqual([]);
  });
});
