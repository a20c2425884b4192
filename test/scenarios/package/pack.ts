/**
 * Shared by the package scenarios: `npm pack` the repository as npm would publish it, and unpack the tarball into a
 * consumer's node_modules. No network: npm pack reads a directory, tar unpacks locally.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
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
  /** Bytes of the tarball, and of its files unpacked (npm's own count). */
  size: number;
  unpackedSize: number;
}

function npmPack(cwd: string, dir: string, extra: string[]): Packed {
  const r = run('npm', ['pack', '--json', '--pack-destination', dir, ...extra], cwd);
  expect(r.status, output(r)).toBe(0);
  // Lifecycle scripts (prepack's build) write to stdout too; npm's JSON is the last thing it prints.
  const json = r.stdout.slice(r.stdout.lastIndexOf('\n[\n') + 1);
  const [info] = JSON.parse(json) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
  return { tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path).sort(), size: info!.size, unpackedSize: info!.unpackedSize };
}

/**
 * Packs whatever dist/ of this working tree holds (it must be built: `npm test` builds first) into `dir`, without
 * the `prepack` build: the README snippet tests only need a tarball, and one build per run is enough.
 */
export function pack(dir: string): Packed {
  for (const f of ['dist/index.d.cts', 'dist/server.cjs', 'dist/server-redis.d.cts']) {
    expect(existsSync(join(ROOT, f)), `${f} missing: run \`npm run build\` (npm test does)`).toBe(true);
  }
  return npmPack(ROOT, dir, ['--ignore-scripts']);
}

/**
 * Packs a fresh checkout, as a clone would be published: the tracked files of HEAD with this working tree's
 * uncommitted changes to them (`git stash create`; untracked files are left out, as a clone would not have them),
 * extracted into `<dir>/checkout` with no dist/, node_modules a symlink to this repository's. `npm pack` there must
 * build (`prepack`) to ship anything. The tarball goes to `dir`; the caller removes `dir`.
 */
export function packFreshCheckout(dir: string): Packed {
  const stash = run('git', ['stash', 'create']);
  expect(stash.status, output(stash)).toBe(0);
  const commit = stash.stdout.trim() || 'HEAD';
  const checkout = join(dir, 'checkout');
  mkdirSync(checkout);
  const archive = spawnSync('sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', commit, checkout], { cwd: ROOT, encoding: 'utf8' });
  expect(archive.status, `git archive: ${archive.stderr}`).toBe(0);
  expect(existsSync(join(checkout, 'dist')), 'dist/ is tracked: a checkout would not need to build').toBe(false);
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  return npmPack(checkout, dir, []);
}

/** Unpacks the tarball as `<app>/node_modules/realtime-fallback`, as `npm install <tarball>` would place it. */
export function unpackInto(tarball: string, app: string): void {
  const pkg = join(app, 'node_modules', 'realtime-fallback');
  mkdirSync(pkg, { recursive: true });
  const r = run('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  expect(r.status, output(r)).toBe(0);
}
