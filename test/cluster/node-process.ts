/**
 * One server node as its own process, so tests can kill it with SIGKILL: the reference server with the Redis adapter,
 * streaming a counter to every session it carries and reporting the counters clients emit to the parent over IPC.
 * Ticks carry the process's epoch (its pid): a restored session's ticks restart at 1 in the new epoch.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type Session } from '../../src/server';
import { redisAdapter } from '../../src/server/redis';

export type FromNode = { t: 'ready'; port: number } | { t: 'stopped' } | { t: 'up'; sid: string; seq: number; c: string; n: number };

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

const ticks = new Map<string, number>();
const live = new Map<string, Session>();
rt.on('connection', (session) => {
  ticks.set(session.id, 0);
  live.set(session.id, session);
  session.on('up', (data, _reply, frame) => {
    const { c, n } = data as { c: string; n: number };
    send({ t: 'up', sid: session.id, seq: frame.seq, c, n });
  });
  session.on('disconnect', () => live.delete(session.id));
});
setInterval(() => {
  for (const [sid, session] of live) {
    if (session.ended) continue;
    const n = (ticks.get(sid) ?? 0) + 1;
    ticks.set(sid, n);
    session.emit('tick', { e: process.pid, n });
  }
}, env('TICK_MS', 20));

// A deploy: close (sessions are let go to Redis, not ended), then exit.
process.on('message', (m: { t: 'stop' }) => {
  // Exits once the IPC channel has written everything reported so far (process.exit would drop queued messages).
  if (m.t === 'stop') void rt.close().then(() => process.send?.({ t: 'stopped' }, () => process.exit(0)));
});
process.on('disconnect', () => process.exit(0));
http.listen(env('PORT', 0), '127.0.0.1', () => send({ t: 'ready', port: (http.address() as AddressInfo).port }));
