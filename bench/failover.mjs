#!/usr/bin/env node
// Time from a node kill to the first message from the node that takes the session over (issue 11): the demo cluster
// (three nodes on a real redis-server behind the round-robin balancer, `npm run demo -- --nodes 3`), one SDK client in
// Node per transport, the node holding its session SIGKILLed again and again. The new holder announces itself with
// the demo's `node` event, the first message it sends. `npm run bench` runs it; alone, after `npm run build`:
//   node bench/failover.mjs [--kills=10]
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Resolves to `{ websocket, sse, polling }`, each `{ p50, p99, max, n }` in ms. */
export async function failover({ kills = 10 } = {}) {
  const { RealtimeClient } = await import('../dist/index.mjs');
  const { startDemoCluster } = await import('../demo/cluster.mjs');
  const { EventSourcePolyfill } = await import('event-source-polyfill');
  const cluster = await startDemoCluster({ nodes: 3, port: 0, restartMs: 1500, log: () => {} });
  const results = {};
  try {
    for (const transport of ['websocket', 'sse', 'polling']) {
      const client = new RealtimeClient(`${cluster.url}realtime`, {
        transports: [transport],
        WebSocket,
        EventSource: EventSourcePolyfill,
        storage: null,
        upgradeProbeMs: 0,
      });
      let holder = null;
      let announced = () => {};
      client.on('node', ({ name }) => {
        holder = name;
        announced(name);
      });
      while (client.state !== 'open' || holder === null) await sleep(20);
      const samples = [];
      for (let i = 0; i < kills; i++) {
        // Every node alive again (the last one killed restarts after 1.5 s), then kill the one holding the session.
        while (!cluster.nodes().every((n) => n.alive)) await sleep(50);
        await sleep(300);
        const victim = holder;
        const moved = new Promise((resolve) => (announced = (name) => name !== victim && resolve(name)));
        const killedAt = performance.now();
        cluster.kill(victim);
        await moved;
        samples.push(performance.now() - killedAt);
      }
      client.close();
      samples.sort((a, b) => a - b);
      results[transport] = { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1), n: samples.length };
    }
  } finally {
    await cluster.close();
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const kills = Number(process.argv.find((a) => a.startsWith('--kills='))?.split('=')[1] ?? 10);
  const results = await failover({ kills });
  console.log('Node SIGKILL → first message from the new holder (ms; SDK client defaults: backoff from 500 ms, jitter 0.5):');
  for (const [t, r] of Object.entries(results)) console.log(`  ${t.padEnd(9)} p50 ${r.p50.toFixed(0)}  p99 ${r.p99.toFixed(0)}  max ${r.max.toFixed(0)}  (${r.n} kills)`);
  process.exit(0);
}
