// `npm run demo`: builds dist/ when it is missing or older than src/, then serves the demo page with the realtime
// server on one port (127.0.0.1, PORT or 6788, or a free port when that one is busy).
// `npm run demo -- --nodes 3`: the same page in front of 3 server processes on a throwaway redis-server, behind a
// round-robin balancer on that port (demo/cluster.mjs).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** `--nodes N` or `--nodes=N`: null without it (the single-process demo). */
function nodesArgument(args) {
  const at = args.findIndex((a) => a === '--nodes' || a.startsWith('--nodes='));
  if (at === -1) return null;
  const raw = args[at].includes('=') ? args[at].slice('--nodes='.length) : args[at + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    console.error(`[demo] --nodes wants a whole number from 1 to 16, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}
const nodes = nodesArgument(process.argv.slice(2));
const NEEDED = ['dist/server.mjs', 'dist/realtime-fallback.umd.min.js', 'dist/index.mjs', ...(nodes ? ['dist/server-redis.mjs'] : [])];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function distIsStale() {
  let oldestDist = Infinity;
  for (const file of NEEDED) {
    try {
      oldestDist = Math.min(oldestDist, statSync(join(root, file)).mtimeMs);
    } catch {
      return 'missing';
    }
  }
  const sources = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'rollup.config.ts')).mtimeMs);
  return sources > oldestDist ? 'older than src/' : null;
}

const stale = process.env.DEMO_SKIP_BUILD ? null : distIsStale();
if (stale) {
  console.log(`[demo] dist/ is ${stale}: running npm run build`);
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) {
    if (stale === 'missing') {
      console.error('[demo] the build failed and there is no dist/ to fall back on');
      process.exit(1);
    }
    console.warn('[demo] the build failed; serving the previous dist/');
  }
}

const port = Number(process.env.PORT ?? 6788);
let demo;
if (nodes) {
  const { startDemoCluster } = await import('../demo/cluster.mjs');
  try {
    demo = await startDemoCluster({ nodes, port });
  } catch (err) {
    console.error(`[demo] could not start the cluster: ${err.message}`);
    process.exit(1);
  }
  console.log(`\nrealtime-fallback demo, ${nodes} node${nodes === 1 ? '' : 's'} on Redis: ${demo.url}`);
  console.log(`redis-server: ${demo.redisUrl} (a temporary one, gone on exit)`);
  for (const n of demo.nodes()) console.log(`${n.name}: http://127.0.0.1:${n.port}/ (pid ${n.pid})`);
  console.log(`round-robin balancer on ${demo.url}; one publisher here sends the ticks and count streams`);
  console.log('GET /demo/cluster lists the nodes; POST /demo/cluster/kill?name=node-1 kills one (back after 3 s)');
  console.log('fault switches act on the one node a request lands on');
} else {
  const { startDemoServer } = await import('../demo/server.mjs');
  demo = await startDemoServer({ port });
  console.log(`\nrealtime-fallback demo: ${demo.url}`);
  console.log('ES module page: ' + demo.url + 'esm.html');
  console.log('fault switches: POST /demo/refuse-ws, /demo/hang-ws, /demo/block-sse, /demo/buffer-sse (?on=1|0), /demo/drop, /demo/reset; GET /demo/faults');
}
console.log('Ctrl+C to stop');

let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n[demo] ${signal}: closing`);
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  demo.close().then(
    () => process.exit(0),
    (err) => {
      console.error('[demo] close failed', err);
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
