#!/usr/bin/env node
// Redis commands per delivered message with the Redis adapter (issue 11): one server process on a real redis-server
// (started here: temp dir, free port, no persistence), SDK clients in Node over WebSocket, every command the adapter
// sends counted, the bus reader's included. `npm run bench` runs it; alone, after `npm run build`:
//   node bench/redis-cost.mjs [--n=2000] [--members=50]
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves to commands per delivered message: `{ direct, toSession, clientEmit, room }`. */
export async function redisCost({ n: N = 2000, members: MEMBERS = 50 } = {}) {
  const { createClient } = await import('redis');
  const { RealtimeClient } = await import('../dist/index.mjs');
  const { createRealtimeServer } = await import('../dist/server.mjs');
  const { redisAdapter } = await import('../dist/server-redis.mjs');
  const { startRedisServer } = await import('../demo/redis-server.mjs');
  const redisServer = await startRedisServer();

  // Ready: startRedisServer resolves once it answers PING.
  const client = createClient({ url: redisServer.url });
  client.on('error', () => {});
  await client.connect();

  /** Every command the adapter sends, counted: through `client`, and through the connections it duplicates from it. */
  let commands = 0;
  const counting = (c) =>
    new Proxy(c, {
      get: (target, key) => (key === 'sendCommand' ? (args) => (commands++, target.sendCommand(args)) : key === 'duplicate' ? () => counting(target.duplicate()) : Reflect.get(target, key).bind?.(target) ?? Reflect.get(target, key)),
    });
  const counted = counting(client);

  const rt = createRealtimeServer({ adapter: await redisAdapter({ client: counted }), logger: { debug() {}, warn() {}, error: console.error } });
  const port = await rt.listen(0, '127.0.0.1');
  const sessions = [];
  rt.on('connection', (s) => {
    sessions.push(s);
    s.join('room');
    s.on('up', () => {});
  });

  async function connect(count) {
    const clients = [];
    for (let i = 0; i < count; i++) {
      const c = new RealtimeClient(`http://127.0.0.1:${port}/realtime`, { transports: ['websocket'], WebSocket, storage: null, upgradeProbeMs: 0 });
      c.got = 0;
      c.on('m', () => c.got++);
      clients.push(c);
    }
    while (!clients.every((c) => c.state === 'open')) await sleep(10);
    return clients;
  }

  /** Runs `send`, waits until `expected` deliveries arrived and everything settled, returns commands per delivery. */
  async function measure(clients, expected, send) {
    for (const c of clients) c.got = 0;
    await sleep(300);
    const before = commands;
    await send();
    while (clients.reduce((n, c) => n + c.got, 0) < expected) await sleep(10);
    await sleep(1500); // the last acks (the client acks every 32 frames or after 1 s)
    return (commands - before) / expected;
  }

  const [one] = await connect(1);
  const direct = await measure([one], N, async () => {
    for (let i = 0; i < N; i++) {
      sessions[0].emit('m', i);
      if (i % 50 === 49) await sleep(1); // let turns end: a realistic stream, not one giant batch
    }
  });
  const viaInbox = await measure([one], N, async () => {
    for (let i = 0; i < N; i++) {
      rt.toSession(sessions[0].id).emit('m', i);
      if (i % 50 === 49) await sleep(1);
    }
  });
  const upBefore = commands;
  for (let i = 0; i < N; i++) {
    one.emit('up', i);
    while (one.queued.messages > 500) await sleep(5); // stay inside the outbox bound
  }
  while (one.queued.messages > 0) await sleep(10);
  const up = (commands - upBefore) / N;

  const room = await connect(MEMBERS - 1);
  const all = [one, ...room];
  const fanout = await measure(all, 200 * MEMBERS, async () => {
    for (let i = 0; i < 200; i++) {
      rt.to('room').emit('m', i);
      await sleep(2);
    }
  });

  for (const c of all) c.close();
  await rt.close();
  await client.close();
  await redisServer.stop();
  return { direct, toSession: viaInbox, clientEmit: up, room: fanout };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const n = arg('n', 2000);
  const members = arg('members', 50);
  const r = await redisCost({ n, members });
  console.log(`Redis commands per delivered message (one node, WebSocket clients, ${n} messages; fan-out: 200 to a room of ${members}):`);
  console.log(`  session.emit (the holding node numbers it)   ${r.direct.toFixed(2)}`);
  console.log(`  rt.to(sessionId).emit (through the bus)      ${r.toSession.toFixed(2)}`);
  console.log(`  client emit, accepted                        ${r.clientEmit.toFixed(2)}`);
  console.log(`  rt.to(room).emit, per member delivery        ${r.room.toFixed(2)}`);
  process.exit(0);
}
