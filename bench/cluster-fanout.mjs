#!/usr/bin/env node
// Fan-out across nodes on Redis (issue 11): 1, 2 and 3 server processes on one redis-server, ours with redisAdapter
// and socket.io with @socket.io/redis-adapter, side by side in one run; raw `ws` clients spread evenly over the nodes
// (bench/fanout.mjs speaks each protocol); node 0 broadcasts: first W warm-up messages nobody counts, then M measured
// ones. Deliveries per second over all clients, from the first measured broadcast to the last delivery.
// `npm run bench` runs it; alone, after `npm run build`:
//   node bench/cluster-fanout.mjs [--clients=300] [--messages=500] [--warmup=100]
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRedisServer } from '../demo/redis-server.mjs';

const script = fileURLToPath(new URL('./fanout.mjs', import.meta.url));
const next = (child) => new Promise((resolve) => child.once('message', resolve));

/** One measurement: `nodes` processes of `kind` ('ours' | 'sio') on `redisUrl`; null when it did not finish in 120 s. */
async function run(kind, nodes, redisUrl, { clients, messages, warmup }) {
  const children = [];
  const spawn = (args) => {
    const env = { ...process.env, FANOUT_MESSAGES: String(messages), FANOUT_WARMUP: String(warmup) };
    const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
    children.push(child);
    return child;
  };
  try {
    const servers = Array.from({ length: nodes }, () => spawn(['server', kind, redisUrl]));
    const ports = (await Promise.all(servers.map(next))).map((m) => m.port);
    const per = Math.floor(clients / nodes);
    const groups = ports.map((port) => spawn(['clients', kind, String(port), String(per)]));
    await Promise.all(groups.map(next)); // connected
    if (warmup > 0) {
      const warmed = Promise.all(groups.map(next));
      servers[0].send({ warmup });
      await warmed;
    }
    const done = Promise.all(groups.map(next));
    servers[0].send({ broadcast: messages });
    const figures = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), 120_000))]);
    if (!figures) return null;
    // Each group measured its own span; the cluster's rate is the sum of theirs.
    return {
      deliveriesPerSec: figures.reduce((n, f) => n + f.deliveriesPerSec, 0),
      received: figures.reduce((n, f) => n + f.received, 0),
      p50: Math.max(...figures.map((f) => f.p50)),
      p99: Math.max(...figures.map((f) => f.p99)),
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

/**
 * Ours and socket.io at each node count, one after the other on the same redis-server (flushed between runs).
 * Resolves to `[{ nodes, ours, sio }]`.
 */
export async function clusterFanout({ redisUrl, clients = 300, messages = 500, warmup = 100, nodeCounts = [1, 2, 3], flush = async () => {} }) {
  const rows = [];
  for (const nodes of nodeCounts) {
    await flush();
    const ours = await run('ours', nodes, redisUrl, { clients, messages, warmup });
    await flush();
    const sio = await run('sio', nodes, redisUrl, { clients, messages, warmup });
    rows.push({ nodes, ours, sio });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const options = { clients: arg('clients', 300), messages: arg('messages', 500), warmup: arg('warmup', 100) };
  const redis = await startRedisServer();
  const { createClient } = await import('redis');
  const admin = createClient({ url: redis.url });
  await admin.connect();
  options.flush = () => admin.sendCommand(['FLUSHALL']);
  try {
    console.log(`Fan-out on Redis: ${options.clients} clients spread over the nodes, ${options.warmup} warm-up then ${options.messages} broadcasts from node 0 (one run)`);
    for (const { nodes, ours, sio } of await clusterFanout({ redisUrl: redis.url, ...options })) {
      const fmt = (r) => (r ? `${Math.round(r.deliveriesPerSec)}/s (p50 ${Math.round(r.p50)} ms, p99 ${Math.round(r.p99)} ms, ${r.received} delivered)` : 'did not finish in 120 s');
      const ratio = ours && sio ? (ours.deliveriesPerSec / sio.deliveriesPerSec).toFixed(2) : '-';
      console.log(`  ${nodes} node(s): ours ${fmt(ours)}  socket.io ${fmt(sio)}  ratio ${ratio}`);
    }
  } finally {
    await admin.close();
    await redis.stop();
  }
  process.exit(0);
}
