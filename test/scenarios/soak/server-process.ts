/**
 * The reference server as its own process, so the soak can restart it for real (its in-memory sessions die with
 * it). Streams a counter to every session and reports what it receives to the parent over IPC.
 *
 * Cluster mode (REDIS_URL set): the server uses the Redis adapter, and SOAK_ROLE says what this process is: a
 * `node` (clients reach it through the balancer; no ticker of its own) or the `publisher`, which streams one counter
 * to the room every session joins, so the counter outlives any node.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type Session } from '../../../src/server';
import { redisAdapter } from '../../../src/server/redis';
import { seededRandom } from '../../support/seeded-random';
import { padder } from './padding';

type ToChild = { t: 'stop-ticks' } | { t: 'stats' };
export type FromChild =
  | { t: 'ready'; port: number }
  /**
   * `redelivered`: this run's frame was left unfinished by a node that died or let go (cluster mode). `at`: when it
   * ran, µs of the system's monotonic clock (the same in every process): reports of several processes arrive in
   * any order. `node`: which process ran it (`SOAK_NODE`: n0, n1, ...; or its role).
   */
  | { t: 'up'; sid: string; c: string; n: number; redelivered: boolean; at: number; node: string }
  /** A server debug line about one session (a refused resume, an ended session): the soak shows it beside a client that resynced. */
  | { t: 'trace'; node: string; message: string; sid: string; why?: string; at: number }
  | { t: 'stats'; sent: Record<string, number>; sessions: number; heapUsed: number; rss: number; padded: number; longestPad: number; warnings: Record<string, number> };

const send = (m: FromChild): void => void process.send?.(m);
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

// The browser soak loads its page and the UMD bundle from this same origin (through the fault proxy).
const files: Record<string, [string, string]> = {
  '/soak/page.html': ['text/html', '<!doctype html><meta charset="utf-8"><script src="/soak/umd.js"></script><script src="/soak/page.js"></script>'],
};
const file = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
const http = createServer((req, res) => {
  const path = (req.url ?? '').split('?')[0]!;
  if (path === '/soak/umd.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(file('../../../dist/realtime-fallback.umd.min.js'));
  if (path === '/soak/page.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(file('./page.js'));
  const f = files[path];
  if (f) return void res.writeHead(200, { 'Content-Type': f[0] }).end(f[1]);
  res.writeHead(404).end();
});
const role = process.env.SOAK_ROLE ?? 'single';
const node = process.env.SOAK_NODE ?? role;
const maxMessageBytes = env('SOAK_MAX_MESSAGE_BYTES', 256 * 1024);
const pad = padder(seededRandom(env('SOAK_SEED', 1)), maxMessageBytes, env('SOAK_BIG_SHARE', 0));
const warnings: Record<string, number> = {};
const adapter = process.env.REDIS_URL ? await redisAdapter({ url: process.env.REDIS_URL }) : undefined;
const rt = createRealtimeServer({
  ...(adapter ? { adapter } : {}),
  server: http,
  path: '/realtime',
  heartbeatMs: env('SOAK_HEARTBEAT_MS', 1000),
  sessionGraceMs: env('SOAK_GRACE_MS', 20_000),
  maxMessageBytes,
  // Room for what a client away for a few seconds misses when messages reach the limit (the default 1 MiB holds four
  // of 256 KiB: such a client would resync with `overrun`, as the limits table in docs/failure-behaviour.md says).
  replayBufferMaxBytes: 16 * maxMessageBytes,
  // Warnings are counted, not printed: the report says how often a connection was cut for not reading, and the like.
  logger: {
    debug: (message, meta) => {
      if (typeof meta?.sid === 'string') send({ t: 'trace', node, message, sid: meta.sid, ...(typeof meta.why === 'string' ? { why: meta.why } : {}), at: Date.now() });
    },
    warn: (message) => void (warnings[message] = (warnings[message] ?? 0) + 1),
    error: (message, meta) => {
      warnings[message] = (warnings[message] ?? 0) + 1;
      if (typeof meta?.sid === 'string') send({ t: 'trace', node, message, sid: meta.sid, at: Date.now() });
    },
  },
});

/** Ticks sent per live session. */
const sent = new Map<string, number>();
const live = new Map<string, Session>();
rt.on('connection', (session) => {
  session.join('everyone');
  if (role === 'single') {
    sent.set(session.id, 0);
    live.set(session.id, session);
  }
  session.on('up', (data, _reply, frame) => {
    const d = data as { c: string; n: number };
    send({ t: 'up', sid: session.id, c: d.c, n: d.n, redelivered: frame.redelivered, at: Number(process.hrtime.bigint() / 1000n), node });
  });
  session.on('echo', (data, reply) => reply(data));
  session.on('disconnect', () => {
    sent.delete(session.id);
    live.delete(session.id);
  });
});

/** The publisher's counter, to the room everyone joins (cluster mode). */
let published = 0;
const ticker = setInterval(() => {
  const now = Date.now();
  if (role === 'publisher') {
    rt.to('everyone').emit('tick', { n: ++published, t: now, pad: pad.next() });
    return;
  }
  for (const [sid, session] of live) {
    const n = (sent.get(sid) ?? 0) + 1;
    sent.set(sid, n);
    session.emit('tick', { n, t: now, pad: pad.next() });
  }
}, env('SOAK_TICK_MS', 20));

process.on('message', (m: ToChild) => {
  if (m.t === 'stop-ticks') clearInterval(ticker);
  if (m.t === 'stats') {
    const mem = process.memoryUsage();
    const counts = role === 'publisher' ? { everyone: published } : Object.fromEntries(sent);
    send({ t: 'stats', sent: counts, sessions: rt.sessions, heapUsed: mem.heapUsed, rss: mem.rss, padded: pad.padded, longestPad: pad.longest, warnings });
  }
});
process.on('disconnect', () => process.exit(0));

http.listen(env('PORT', 0), '127.0.0.1', () => send({ t: 'ready', port: (http.address() as AddressInfo).port }));
