/**
 * One server node as its own process, so tests can kill it with SIGKILL: the reference server with the Redis adapter,
 * streaming a counter to every session it carries and reporting the counters clients emit to the parent over IPC.
 * Ticks carry an epoch (`pid/n`, n counting the times this process took the session up): each run of ticks for a
 * session starts at 1. With PUBLISH_MS, the node also publishes a counter to the room `everyone` (the publisher).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type Session } from '../../../src/server';
import { redisAdapter } from '../../../src/server/redis';

/**
 * `up`: one run of the `up` handler (`redelivered`: its frame was left unfinished by a node that died or let go; `at`:
 * when it ran, µs of the system's monotonic clock, the same in every process).
 */
export type FromNode =
  | { t: 'ready'; port: number }
  | { t: 'stopped' }
  | { t: 'up'; sid: string; seq: number; c: string; n: number; redelivered: boolean; at: number };

const send = (m: FromNode): void => void process.send?.(m);
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

const adapter = await redisAdapter({ url: process.env.REDIS_URL! });
const http = createServer();
const rt = createRealtimeServer({
  server: http,
  adapter,
  heartbeatMs: env('HEARTBEAT_MS', 1000),
  sessionGraceMs: env('GRACE_MS', 20_000),
  logger: { debug() {}, warn() {}, error: (m, meta) => console.error(`[node ${process.pid}] ${m}`, meta ?? '') },
});

const ticks = new Map<string, { epoch: string; n: number }>();
const live = new Map<string, Session>();
let takeUps = 0;
rt.on('connection', (session) => {
  ticks.set(session.id, { epoch: `${process.pid}/${++takeUps}`, n: 0 });
  live.set(session.id, session);
  session.join('everyone');
  session.on('up', (data, _reply, frame) => {
    const { c, n } = data as { c: string; n: number };
    send({ t: 'up', sid: session.id, seq: frame.seq, c, n, redelivered: frame.redelivered, at: Number(process.hrtime.bigint() / 1000n) });
  });
  session.on('disconnect', () => live.delete(session.id));
});
setInterval(() => {
  for (const [sid, session] of live) {
    if (session.ended) {
      live.delete(sid); // let go (another node carries it) or ended
      continue;
    }
    const t = ticks.get(sid)!;
    t.n++;
    session.emit('tick', { e: t.epoch, n: t.n });
  }
}, env('TICK_MS', 20));

const publishMs = env('PUBLISH_MS', 0);
let published = 0;
if (publishMs > 0) setInterval(() => rt.to('everyone').emit('pub', ++published), publishMs);

// A deploy: close (sessions are let go to Redis, not ended), then exit.
process.on('message', (m: { t: 'stop' }) => {
  // Exits once the IPC channel has written everything reported so far (process.exit would drop queued messages).
  if (m.t === 'stop') void rt.close().then(() => process.send?.({ t: 'stopped' }, () => process.exit(0)));
});
process.on('disconnect', () => process.exit(0));
http.listen(env('PORT', 0), '127.0.0.1', () => send({ t: 'ready', port: (http.address() as AddressInfo).port }));
