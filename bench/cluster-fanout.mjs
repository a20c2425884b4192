#!/usr/bin/env node
// Fan-out across nodes on Redis (issue 11): 1, 2 and 3 server processes on one redis-server, ours with redisAdapter
// and socket.io with @socket.io/redis-adapter, side by side in one run; raw `ws` clients spread evenly over the nodes
// (bench/fanout.mjs speaks each protocol); node 0 broadcasts M messages to everyone. Deliveries per second over all
// clients, from the first broadcast to the last delivery. Run after `npm run build`:
//   node bench/cluster-fanout.mjs [--clients=300] [--messages=100]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../demo/redis-server.mjs';

const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const CLIENTS = arg('clients', 300);
const MESSAGES = arg('messages', 100);
const script = fileURLToPath(new URL('./fanout.mjs', import.meta.url));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
const spawn = (args) => {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, FANOUT_MESSAGES: String(MESSAGES) } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
};
const next = (child) => new Promise((resolve) => child.once('message', resolve));

async function run(kind, nodes, redisUrl) {
  const servers = Array.from({ length: nodes }, () => spawn(['server', kind, redisUrl]));
  const ports = (await Promise.all(servers.map(next))).map((m) => m.port);
  const per = Math.floor(CLIENTS / nodes);
  const groups = ports.map((port) => spawn(['clients', kind, String(port), String(per)]));
  await Promise.all(groups.map(next)); // connected
  const done = Promise.all(groups.map(next));
  servers[0].send({ broadcast: MESSAGES });
  const figures = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), 120_000))]);
  for (const c of [...servers, ...groups]) c.kill('SIGKILL');
  if (!figures) return null;
  const received = figures.reduce((n, f) => n + f.received, 0);
  // Each group measured its own span; the cluster's rate is the sum of theirs.
  return { deliveriesPerSec: figures.reduce((n, f) => n + f.deliveriesPerSec, 0), received, p99: Math.max(...figures.map((f) => f.p99)) };
}

const redis = await startRedisServer();
try {
  console.log(`Fan-out on Redis: ${CLIENTS} clients spread over the nodes, ${MESSAGES} broadcasts from node 0 (one run)`);
  for (const nodes of [1, 2, 3]) {
    const ours = await run('ours', nodes, redis.url);
    const sio = await run('sio', nodes, redis.url);
    const fmt = (r) => (r ? `${Math.round(r.deliveriesPerSec)}/s (p99 ${Math.round(r.p99)} ms, ${r.received} delivered)` : 'did not finish in 120 s');
    const ratio = ours && sio ? (ours.deliveriesPerSec / sio.deliveriesPerSec).toFixed(2) : '-';
    console.log(`  ${nodes} node(s): ours ${fmt(ours)}  socket.io ${fmt(sio)}  ratio ${ratio}`);
  }
} finally {
  await redis.stop();
}
process.exit(0);
