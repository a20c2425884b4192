// Bundle-size measurement shared by test/size/size.test.ts (the enforced budget) and scripts/bench.mjs (the table in
// bench/RESULTS.md). Deterministic: esbuild from node_modules, gzip level 9, brotli at its default quality (11).
//
// What is measured:
// - "ESM default": what an app bundler ships for `import { RealtimeClient } from 'realtime-fallback'`:
//   `esbuild --bundle --minify --format=esm --splitting` on that one import of dist/index.mjs. The lazily imported
//   event-source-polyfill lands in its own chunk and is reported separately, not counted in the default.
// - "WebSocket-only": there is no WebSocket-only entry point. `transports: ['websocket']` is a runtime option; the
//   SSE and polling transports are a chunk imported on first use (src/transports/create.ts), so an app that only
//   wants WebSocket ships the ESM default and never downloads that chunk. For information only, `wsOnlyEstimate`
//   bundles src/index.ts with the SSE and polling transports stubbed out.
// - "UMD": dist/realtime-fallback.umd.min.js as rollup + terser build it (polyfill included).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Budgets of the issue (gzip bytes). */
export const TARGETS = { esmDefaultGzip: 8 * 1024, umdGzip: 11 * 1024 };

export function compressed(text) {
  const buf = Buffer.from(text);
  return {
    min: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}

/**
 * Bundles `source` (an ESM entry) the way an app bundler would; returns the size of the entry chunk and of the
 * lazy chunks split out of it.
 */
export async function bundle(source, { plugins = [], resolveDir = ROOT } = {}) {
  const result = await build({
    stdin: { contents: source, resolveDir, sourcefile: 'entry.mjs', loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    metafile: true,
    outdir: path.join(ROOT, '.size-out'),
    write: false,
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins,
  });
  // What loads up front is the entry plus every chunk it imports statically (shared code that splitting moved out
  // of the entry); chunks reached only through import() are lazy.
  const rel = (f) => path.relative(process.cwd(), f.path).split(path.sep).join('/');
  const byName = new Map(result.outputFiles.map((f) => [rel(f), f]));
  const entryName = [...byName.keys()].find((n) => n.endsWith('stdin.js'));
  const initial = new Set();
  const visit = (name) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const imp of result.metafile.outputs[name]?.imports ?? []) if (imp.kind === 'import-statement') visit(imp.path);
  };
  visit(entryName);
  const text = (names) => names.map((n) => byName.get(n).text).join('');
  const lazyNames = [...byName.keys()].filter((n) => !initial.has(n));
  // The code that loads up front, for tests that check what must stay lazy.
  const initialText = text([...initial]);
  return { ...compressed(initialText), lazy: lazyNames.length ? compressed(text(lazyNames)) : null, initialText };
}

/** Replaces the SSE and polling transports with empty classes (for wsOnlyEstimate). */
const stubFallbacks = {
  name: 'stub-fallbacks',
  setup(b) {
    b.onResolve({ filter: /\/(sse|polling)$/ }, (args) =>
      args.importer.includes(`${path.sep}transports${path.sep}`) ? { path: args.path, namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'export class SseTransport{} export class LongPollingTransport{}',
      loader: 'js',
    }));
  },
};

export async function measureOurs() {
  const esm = await bundle(`export { RealtimeClient } from ${JSON.stringify(path.join(ROOT, 'dist/index.mjs'))};`);
  const wsOnlyEstimate = await bundle(`export { RealtimeClient } from ${JSON.stringify(path.join(ROOT, 'src/index.ts'))};`, {
    plugins: [stubFallbacks],
  });
  const srcDefault = await bundle(`export { RealtimeClient } from ${JSON.stringify(path.join(ROOT, 'src/index.ts'))};`);
  const umd = compressed(readFileSync(path.join(ROOT, 'dist/realtime-fallback.umd.min.js'), 'utf8'));
  return { esm, wsOnly: esm, wsOnlyEstimate, srcDefault, umd };
}

/** The same measurement for the libraries we compare against (bench/RESULTS.md). */
export async function measureOthers() {
  const file = (p) => compressed(readFileSync(path.join(ROOT, 'node_modules', p), 'utf8'));
  return {
    'socket.io-client': { esm: await bundle(`export { io } from 'socket.io-client';`), umd: file('socket.io-client/dist/socket.io.min.js') },
    '@microsoft/signalr': {
      esm: await bundle(`export { HubConnectionBuilder } from '@microsoft/signalr';`),
      umd: file('@microsoft/signalr/dist/browser/signalr.min.js'),
    },
    centrifuge: { esm: await bundle(`export { Centrifuge } from 'centrifuge';`), umd: null },
  };
}

export const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
