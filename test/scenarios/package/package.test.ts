/**
 * The package as npm would publish it from a fresh clone: `npm pack` in a checkout of HEAD (with this tree's
 * uncommitted changes) that has no dist/, so its `prepack` must build; then what is in the tarball, publint --strict
 * and arethetypeswrong (every resolution mode: node10, node16 from CJS and from ESM, bundler) on it, and the unpacked
 * package run by Node with and without the optional peer dependency `ws`.
 *
 * The one build is this file's cost (rollup, tens of seconds). No network: both tools are devDependencies and read
 * the tarball only. The temp dir (checkout, tarball, app) is removed on every exit path.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WS_MISSING } from '../../../src/server/ws-module';
import { ROOT, bin, output, packFreshCheckout, run, unpackInto, type Packed } from './pack';

let dir: string;
let tarball: string;
let files: string[];
let packed: Packed;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'realtime-fallback-pack-'));
  packed = packFreshCheckout(dir);
  ({ tarball, files } = packed);
  console.log(`[package] ${files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds the files a fresh checkout built, LICENSE, README.md and package.json, and nothing else', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    for (const name of ['index', 'share', 'server', 'server-redis']) {
      for (const ext of ['mjs', 'cjs', 'd.ts', 'd.cts']) expect(files).toContain(`dist/${name}.${ext}`);
    }
    for (const name of ['realtime-fallback', 'realtime-fallback.share']) {
      for (const ext of ['umd.js', 'umd.min.js']) expect(files).toContain(`dist/${name}.${ext}`);
    }
    // The lazily loaded chunks (SSE and polling transports, plain mode, persistence) of both module formats.
    expect(files.filter((f) => /^dist\/chunks\/.+\.mjs$/.test(f)).length).toBeGreaterThan(0);
    expect(files.filter((f) => /^dist\/chunks\/.+\.cjs$/.test(f)).length).toBeGreaterThan(0);
    // No source maps (docs/design-notes.md, "Source maps").
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files).not.toContain('docs/demo.png');
    expect(files.filter((f) => /^(docs|test|src|bench|demo|scripts)\//.test(f) || /\.test\.ts$/.test(f))).toEqual([]);
    expect(files.filter((f) => !/^dist\//.test(f) && !['LICENSE', 'README.md', 'package.json'].includes(f))).toEqual([]);
  });

  it('passes publint --strict', () => {
    const r = run(bin('publint'), ['--strict', tarball]);
    const text = output(r);
    expect(r.status, text).toBe(0);
    expect(text, text).toContain('All good!');
    expect(text, text).not.toMatch(/Suggestions:|Warnings:|Errors:/);
  }, 60_000);

  it('has right types in every resolution mode (arethetypeswrong, strict profile)', () => {
    const r = run(bin('attw'), [tarball, '--profile', 'strict', '--format', 'ascii', '--no-color']);
    const text = output(r);
    expect(r.status, text).toBe(0);
    expect(text, text).toContain('No problems found');
  }, 60_000);
});

describe('the unpacked package in a Node app', () => {
  let app: string;
  const script = (esm: boolean, create: boolean): string[] =>
    esm
      ? ['--input-type=module', '-e', `import { createRealtimeServer } from 'realtime-fallback/server';${create ? ' await createRealtimeServer().close();' : ''} console.log('ok');`]
      : ['-e', `const { createRealtimeServer } = require('realtime-fallback/server');${create ? ' createRealtimeServer().close().then(() => console.log("ok"));' : ' console.log("ok");'}`];

  beforeAll(() => {
    app = join(dir, 'app');
    unpackInto(tarball, app);
  });

  it('without `ws`: imports, and createRealtimeServer fails naming the package and the install command', () => {
    // Precondition: nothing on this app's resolution path provides ws.
    const probe = run(process.execPath, ['-e', "require.resolve('ws')"], app);
    expect(probe.status, `ws is resolvable from ${app}: the test cannot hide it`).not.toBe(0);
    expect(WS_MISSING).toContain('npm install ws');

    for (const esm of [true, false]) {
      const imported = run(process.execPath, script(esm, false), app);
      expect(imported.stdout.trim(), output(imported)).toBe('ok');
      const created = run(process.execPath, script(esm, true), app);
      expect(created.status, output(created)).not.toBe(0);
      expect(created.stderr, output(created)).toContain(WS_MISSING);
    }
  }, 30_000);

  it('with `ws` installed beside it: createRealtimeServer works from ESM and CJS', () => {
    symlinkSync(join(ROOT, 'node_modules', 'ws'), join(app, 'node_modules', 'ws'), 'dir');
    try {
      for (const esm of [true, false]) {
        const created = run(process.execPath, script(esm, true), app);
        expect(created.stdout.trim(), output(created)).toBe('ok');
      }
    } finally {
      rmSync(join(app, 'node_modules', 'ws'), { force: true });
    }
  }, 30_000);
});
