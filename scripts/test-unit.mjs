#!/usr/bin/env node
// `npm run test:unit`: the module tests only (vitest project `unit`: no browser, no child process, no nginx or
// redis-server; see test/README.md), then their wall time. Extra arguments go to vitest (a path narrows the run).
import { spawnSync } from 'node:child_process';

const started = performance.now();
const r = spawnSync('npx', ['vitest', 'run', '--project', 'unit', ...process.argv.slice(2)], { stdio: 'inherit' });
if (r.error) throw r.error;
console.log(`[test:unit] wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(r.status ?? 1);
