// Fan-out benchmark, one process per role (see scripts/bench.mjs, bench/cluster-fanout.mjs):
//   node bench/fanout.mjs server <ours|sio> [redisUrl]      → IPC {port}; on {broadcast: M} broadcasts M messages,
//     on {warmup: W} W messages the clients do not count (both servers' code paths warm before the measured run)
//     with a Redis URL the server is one node of a cluster: ours with redisAdapter, socket.io with its Redis adapter
//   node bench/fanout.mjs clients <ours|sio> <port> <count> → IPC {connected}, {warmed} once every client got the
//     FANOUT_WARMUP warm-up messages, then the figures when all measured messages arrived
// Clients are raw `ws` sockets speaking each server's protocol, so the client side costs the same for both.
import http from 'node:http';
import { WebSocket } from 'ws';

const [role, kind, portArg, countArg] = process.argv.slice(2);
const redisUrl = role === 'server' ? portArg : undefined;
const now = () => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC: comparable across processes
const PAD = 'x'.repeat(40);

if (role === 'server') {
  const server = http.createServer();
  let broadcast;
  if (kind === 'ours') {
    const { createRealtimeServer } = await import('../dist/server.mjs');
    const { RT_OPTIONS } = await import('./servers.mjs');
    const adapter = redisUrl ? await (await import('../dist/server-redis.mjs')).redisAdapter({ url: redisUrl }) : undefined;
    const rt = createRealtimeServer({ ...RT_OPTIONS, ...(adapter ? { adapter } : {}), server });
    broadcast = (i, w) => rt.emit('tick', { i, t: now(), p: PAD, ...(w ? { w } : {}) });
  } else {
    const { Server } = await import('socket.io');
    const io = new Server(server, { serveClient: false, transports: ['websocket'] });
    if (redisUrl) {
      const { createClient } = await import('redis');
      const { createAdapter } = await import('@socket.io/redis-adapter');
      const pub = createClient({ url: redisUrl });
      const sub = pub.duplicate();
      await Promise.all([pub.connect(), sub.connect()]);
      io.adapter(createAdapter(pub, sub));
    }
    broadcast = (i, w) => io.emit('tick', { i, t: now(), p: PAD, ...(w ? { w } : {}) });
  }
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('SIGINT', () => process.exit(0));
  process.on('message', ({ broadcast: measured, warmup }) => {
    const total = measured ?? warmup;
    let i = 0;
    const step = () => {
      for (let k = 0; k < 10 && i < total; k++) broadcast(i++, warmup ? 1 : 0);
      if (i < total) setImmediate(step);
    };
    step();
  });
} else {
  const port = Number(portArg);
  const count = Number(countArg);
  const latencies = [];
  let expected = 0;
  let received = 0;
  let first = Infinity;
  let last = 0;
  let connected = 0;
  const warmupTotal = Number(process.env.FANOUT_WARMUP ?? 0) * count;
  let warmed = 0;
  const onTick = (d) => {
    if (d.w) {
      if (++warmed === warmupTotal) process.send({ warmed });
      return;
    }
    const t = now();
    latencies.push(t - d.t);
    first = Math.min(first, d.t);
    last = t;
    if (++received === expected) finish();
  };
  const open = (i) =>
    new Promise((resolve) => {
      if (kind === 'ours') {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/realtime/ws?v=1`, { perMessageDeflate: false });
        let unacked = 0;
        ws.on('message', (data) => {
          // One frame, or a JSON array of frames the server coalesced (protocol §4).
          const parsed = JSON.parse(String(data));
          for (const f of Array.isArray(parsed) ? parsed : [parsed]) {
            if (f.t === 'welcome') resolve();
            else if (f.t === 'msg') {
              onTick(f.d);
              if (++unacked === 32) {
                unacked = 0;
                ws.send(`{"t":"ack","id":${f.id}}`);
              }
            }
          }
        });
      } else {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
        ws.on('message', (data) => {
          const s = String(data);
          if (s[0] === '0') ws.send('40');
          else if (s === '2') ws.send('3');
          else if (s.startsWith('40')) resolve();
          else if (s.startsWith('42')) onTick(JSON.parse(s.slice(2))[1]);
        });
      }
    });
  // Connect in batches so the accept queue does not overflow.
  for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => open(i + k)));
  connected = count;
  expected = Number(process.env.FANOUT_MESSAGES) * count;
  process.send({ connected });
  function finish() {
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    process.send({ deliveriesPerSec: (received / (last - first)) * 1000, p50: q(0.5), p99: q(0.99), received });
  }
}
