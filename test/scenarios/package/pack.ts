/**
 * Shared by the package scenarios: `npm pack` the repository as npm would publish it, and unpack the tarball into a
 * consumer's node_modules. No network: npm pack reads the working tree, tar unpacks locally.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);

export function run(cmd: string, args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NODE_PATH: '' } });
  if (r.error) throw r.error;
  return r;
}
export const output = (r: SpawnSyncReturns<string>): string => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

export interface Packed {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the package, sorted. */
  files: string[];
}

/** Packs whatever dist/ holds (it must be built: `npm test` builds first) into `dir`. */
export function pack(dir: string): Packed {
  for (const f of ['dist/index.d.cts', 'dist/server.cjs', 'dist/server-redis.d.cts']) {
    expect(existsSync(join(ROOT, f)), `${f} missing: run \`npm run build\` (npm test does)`).toBe(true);
  }
  const r = run('npm', ['pack', '--json', '--pack-destination', dir]);
  expect(r.status, output(r)).toBe(0);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path).sort() };
}

/** Unpacks the tarball as `<app>/node_modules/realtime-fallback`, as `npm install <tarball>` would place it. */
export function unpackInto(tarball: string, app: string): void {
  const pkg = join(app, 'node_modules', 'realtime-fallback');
  mkdirSync(pkg, { recursive: true });
  const r = run('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  expect(r.status, output(r)).toBe(0);
}
