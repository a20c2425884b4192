import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Guards the layering of all of src/ (STYLE.md, "The layout today, and the dependency rules"): no import circle
// anywhere (type-only imports included, since they still tie the files together; shared types live in the leaf
// modules client/types.ts and server/types.ts), the wire layer knows nothing of the client, the server shares only
// the protocol with the rest, and the server's low-level modules import nothing above them.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** The server's low-level modules, and the modules above them they must never import. */
const LOW_LEVEL = ['types.ts', 'replay-buffer.ts', 'session.ts', 'session-store.ts', 'bus.ts', 'session-journal.ts'].map((f) => `server/${f}`);
const HIGH_LEVEL = ['realtime-server.ts', 'websocket-handler.ts', 'sse-handler.ts', 'polling-handler.ts', 'send-handler.ts', 'index.ts'].map((f) => `server/${f}`);

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

/** Relative imports of `file` that resolve to a file under src/, as paths relative to it. */
function srcImports(file: string, known: Set<string>): string[] {
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
  return new Map(files.map((f) => [relative(ROOT, f), srcImports(f, known)]));
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

/** The edges of `graph` from files under `from` to files not under one of `allowed` (folders, `/`-terminated). */
function crossings(graph: Map<string, string[]>, from: string, allowed: string[]): string[] {
  return [...graph]
    .filter(([file]) => file.startsWith(from))
    .flatMap(([file, deps]) => deps.filter((d) => !allowed.some((a) => d.startsWith(a))).map((d) => `${file} → ${d}`));
}

describe('src/ import graph', () => {
  const graph = importGraph();

  it('reads the imports it is meant to guard', () => {
    // A regex that stopped matching would make every other check here pass vacuously.
    expect(graph.get('server/index.ts')).toContain('server/realtime-server.ts');
    expect(graph.get('server/redis/session-log.ts')).toContain('server/redis/session-log-scripts.ts');
    expect(graph.get('client/upgrade-probe.ts')).toContain('client/upgrade-probe-runner.ts'); // a dynamic import()
    expect(graph.get('client/mode/mode.ts')).toContain('client/types.ts'); // a type-only import
  });

  it('has no import circle anywhere in src/, type imports included', () => {
    const cycle = findCycle(graph);
    expect(cycle, cycle ? `import circle: ${cycle.join(' → ')}` : '').toBeNull();
  });

  it('finds a circle when there is one (the check itself can fail)', () => {
    const withCircle = new Map(graph);
    withCircle.set('client/types.ts', [...(graph.get('client/types.ts') ?? []), 'client/options.ts']);
    const cycle = findCycle(withCircle);
    expect(cycle).toContain('client/types.ts');
    expect(cycle?.at(0)).toBe(cycle?.at(-1));
  });

  it('keeps the protocol, the wire layer and plain transports off the client (they know nothing of it)', () => {
    expect(crossings(graph, 'protocol/', ['protocol/'])).toEqual([]);
    expect(crossings(graph, 'transports/', ['transports/', 'protocol/'])).toEqual([]);
    expect(crossings(graph, 'plain/', ['plain/', 'transports/', 'protocol/'])).toEqual([]);
  });

  it('lets the server import only the protocol of the shared code, and the client nothing of the server', () => {
    expect(crossings(graph, 'server/', ['server/', 'protocol/'])).toEqual([]);
    expect(crossings(graph, 'client/', ['client/', 'transports/', 'plain/', 'protocol/'])).toEqual([]);
  });

  it('keeps top-level server modules off the Redis adapter', () => {
    const topLevel = [...graph].filter(([file]) => /^server\/[^/]+$/.test(file));
    const offending = topLevel.flatMap(([file, deps]) => deps.filter((d) => d.startsWith('server/redis/')).map((d) => `${file} → ${d}`));
    expect(offending).toEqual([]);
  });

  it('keeps low-level server modules off the server, the transport handlers and the index', () => {
    const offending = LOW_LEVEL.flatMap((file) => (graph.get(file) ?? []).filter((d) => HIGH_LEVEL.includes(d)).map((d) => `${file} → ${d}`));
    expect(offending).toEqual([]);
  });
});
