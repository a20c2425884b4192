/**
 * The package as npm would publish it: `npm pack` into a temp dir, then what is in the tarball, publint --strict and
 * arethetypeswrong (every resolution mode: node10, node16 from CJS and from ESM, bundler) on it, and the unpacked
 * package run by Node with and without the optional peer dependency `ws`.
 *
 * NOTE: like dist.test.ts this packs whatever dist/ holds; `npm test` builds it first. No network: both tools are
 * devDependencies and read the tarball only.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WS_MISSING } from '../../../src/server/ws-module';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);

function run(cmd: string, args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NODE_PATH: '' } });
  if (r.error) throw r.error;
  return r;
}
const output = (r: SpawnSyncReturns<string>): string => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

let dir: string;
let tarball: string;
let files: string[];

beforeAll(() => {
  for (const f of ['dist/index.d.cts', 'dist/server.cjs', 'dist/server-redis.d.cts']) {
    expect(existsSync(join(ROOT, f)), `${f} missing: run \`npm run build\` (npm test does)`).toBe(true);
  }
  dir = mkdtempSync(join(tmpdir(), 'realtime-fallback-pack-'));
  const r = run('npm', ['pack', '--json', '--pack-destination', dir]);
  expect(r.status, output(r)).toBe(0);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, info!.filename);
  files = info!.files.map((f) => f.path).sort();
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds the built files, LICENSE, README.md and package.json, and nothing else', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    for (const name of ['index', 'server', 'server-redis']) {
      for (const ext of ['mjs', 'cjs', 'd.ts', 'd.cts']) expect(files).toContain(`dist/${name}.${ext}`);
    }
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
    const pkg = join(app, 'node_modules', 'realtime-fallback');
    mkdirSync(pkg, { recursive: true });
    const r = run('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
    expect(r.status, output(r)).toBe(0);
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
