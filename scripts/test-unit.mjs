#!/usr/bin/env node
// `npm run test:unit`: the module tests only (vitest project `unit`: no browser, no child process, no nginx or
// redis-server; see test/README.md), then their wall time. Extra arguments go to vitest (a path narrows the run).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const started = performance.now();
// Every core: module tests do not depend on an idle machine, and vitest's default (one worker fewer than the cores)
// runs them one file at a time on 2 cores (68 s against 39 s measured here).
const workers = `--maxWorkers=${availableParallelism()}`;
const r = spawnSync('npx', ['vitest', 'run', '--project', 'unit', workers, ...process.argv.slice(2)], { stdio: 'inherit' });
if (r.error) throw r.error;
console.log(`[test:unit] wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(r.status ?? 1);
