/**
 * The app behind the proxy, as its own process (tests kill it by pid): the reference server plus the test page and
 * the UMD bundle on one port. Streams a counter to every session and records the counters clients emit; the parent
 * reads both over IPC.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type CreateServerOptions, type Session } from '../../../src/server';

export type ToApp = { t: 'stats' } | { t: 'stop-ticks' };
export type FromApp =
  | { t: 'ready'; port: number }
  | { t: 'stats'; ups: Record<string, number[]>; ticksSent: Record<string, number>; sessions: number; warnings: string[] };

const send = (m: FromApp): void => void process.send?.(m);
const options = JSON.parse(process.env.RT_OPTIONS ?? '{}') as Omit<CreateServerOptions, 'server' | 'logger'>;
const tickMs = Number(process.env.TICK_MS ?? 20);
/** Random characters carried by each tick (0: the tick is just its number), so a compressing proxy cannot shrink it. */
const tickPad = Number(process.env.TICK_PAD ?? 0);

const file = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
const page = '<!doctype html><meta charset="utf-8"><title>proxy test</title><script src="/proxy/umd.js"></script><script src="/proxy/page.js"></script>';
const http = createServer((req, res) => {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/proxy/page.html') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
  if (path === '/proxy/umd.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(file('../../../dist/realtime-fallback.umd.min.js'));
  if (path === '/proxy/page.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(file('./page.js'));
  res.writeHead(404).end();
});

const warnings: string[] = [];
const rt = createRealtimeServer({
  heartbeatMs: 5000,
  sessionGraceMs: 30_000,
  ...options,
  server: http,
  logger: { debug() {}, warn: (m) => void warnings.push(m), error: (m, meta) => console.error(`[app] ${m}`, meta ?? '') },
});

/** Counter ticks sent per session; counters received per client (`c`). */
const ticksSent: Record<string, number> = {};
const ups: Record<string, number[]> = {};
const live = new Map<string, Session>();
rt.on('connection', (session) => {
  ticksSent[session.id] = 0;
  live.set(session.id, session);
  session.on('up', (data) => {
    const { c, n } = data as { c: string; n: number };
    (ups[c] ??= []).push(n);
  });
  session.on('disconnect', () => live.delete(session.id));
});
const ticker = setInterval(() => {
  for (const [sid, session] of live) {
    const n = (ticksSent[sid] = (ticksSent[sid] ?? 0) + 1);
    session.emit('tick', tickPad > 0 ? { n, pad: randomBytes(tickPad).toString('base64').slice(0, tickPad) } : n);
  }
}, tickMs);

process.on('message', (m: ToApp) => {
  if (m.t === 'stop-ticks') clearInterval(ticker);
  if (m.t === 'stats') send({ t: 'stats', ups, ticksSent, sessions: rt.sessions, warnings });
});
process.on('disconnect', () => process.exit(0));
http.listen(0, '127.0.0.1', () => send({ t: 'ready', port: (http.address() as AddressInfo).port }));
