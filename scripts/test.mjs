#!/usr/bin/env node
// `npm test`: make sure Chromium, Firefox and WebKit exist for the browser tests (find them, or install them and say
// so; `BROWSERS=chromium,firefox` covers a subset), build the bundles the browser tests load, then run every test with
// vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBrowsers, parseBrowsers } from './browsers.mjs';
import { ensureChromium } from './chromium.mjs';

const run = (cmd, args, env = process.env) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
};

const chromium = await ensureChromium({ log: (m) => console.log(`[test] ${m}`) });
console.log(`[test] Chromium: ${chromium}`);
// Chromium-only tests (DevTools features) run whatever BROWSERS says; the others run in each browser it names.
const browsers = parseBrowsers();
const browserEnv = ensureBrowsers(browsers, { log: (m) => console.log(`[test] ${m}`) });
console.log(`[test] browsers: ${browsers.join(', ')}${Object.keys(browserEnv).length ? ` (${Object.values(browserEnv).join(', ')})` : ''}`);

console.log('[test] building bundles (rollup)');
if (run('npm', ['run', '--silent', 'build']) !== 0) process.exit(1);
if (!existsSync('dist/realtime-fallback.umd.js')) {
  console.error('[test] build did not produce dist/realtime-fallback.umd.js');
  process.exit(1);
}

console.log('[test] type-checking (tsc --noEmit)');
if (run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) !== 0) process.exit(1);

const report = join(tmpdir(), `realtime-fallback-vitest-${process.pid}.json`);
const status = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  ...process.env,
  ...browserEnv,
  CHROMIUM_PATH: chromium,
});
// One plain closing line that any CI can read.
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  rmSync(report, { force: true });
}
process.exit(status);
