/**
 * The server the fuzz test attacks, as its own process (forked by fuzz-process.ts with a heap ceiling): the README's
 * kind of app on the reference server with its default options, run from src/ through tsx so the test always
 * attacks the server source of this tree (a stale dist/ would hide a fix, or a regression).
 *
 * The app: `echo` replies with what it got; `join` joins the room the client names; `say` emits to a room; `up`
 * counts the good clients' emits per session (in order, once each); `bad` replies (or emits) something that cannot
 * be encoded (a BigInt, a cycle, a structure too deep for JSON.stringify, a toJSON that throws); a ticker broadcasts
 * `tick` n to every session every 50 ms.
 *
 * IPC to the parent: `ready {port}`, `mem {rss, heap}` every 250 ms and `gcMem {heap}` (after a full GC) every
 * second; answers `stats` and `quiet` (stop the ticker, say its last number). The server's log is counted, not
 * printed (the fuzz makes thousands of warnings): the first error of each message goes to stderr.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type Logger } from '../../../../src/server';

export interface UpCount {
  c: string;
  count: number;
  problems: string[];
}
export interface ServerStats {
  sessions: number;
  created: number;
  tick: number;
  /** Per session id: the good clients' `up` emits as the handler ran them. */
  ups: Record<string, UpCount>;
  log: { warn: Record<string, number>; error: Record<string, number> };
}
export type FromServer =
  | { t: 'ready'; port: number }
  | { t: 'mem'; rss: number; heap: number; at: number }
  | { t: 'gcMem'; heap: number; at: number }
  | { t: 'stats'; stats: ServerStats }
  | { t: 'quiet'; tick: number };
export type ToServer = { t: 'stats' } | { t: 'quiet' };

const send = (m: FromServer): void => void process.send?.(m);

/** Bounded: only so many distinct messages are kept (they are constant strings in the server). */
const count = (into: Record<string, number>, message: string): boolean => {
  if (into[message] === undefined && Object.keys(into).length >= 200) return false;
  into[message] = (into[message] ?? 0) + 1;
  return into[message] === 1;
};
const log: ServerStats['log'] = { warn: {}, error: {} };
const logger: Logger = {
  debug() {},
  warn: (message) => void count(log.warn, message),
  error(message, meta) {
    const err = (meta as { err?: unknown } | undefined)?.err;
    if (count(log.error, message)) console.error(`[fuzz-server] error: ${message}`, err instanceof Error ? err.stack : (meta ?? ''));
  },
};

/** Something a reply cannot carry: the kinds an app gets wrong. */
function unencodable(kind: unknown): unknown {
  switch (kind) {
    case 'cycle': {
      const o: Record<string, unknown> = { a: 1 };
      o.self = o;
      return o;
    }
    case 'deep': {
      // Built in a loop: deeper than any JSON.stringify recursion can go.
      let v: unknown[] = [];
      for (let i = 0; i < 200_000; i++) v = [v];
      return v;
    }
    case 'toJSON':
      return { toJSON: () => { throw new Error('toJSON refuses'); } };
    default:
      return { n: 10n };
  }
}

const http = createServer();
const rt = createRealtimeServer({ server: http, logger });

let created = 0;
const ups: Record<string, UpCount> = {};
rt.on('connection', (session) => {
  created++;
  session.on('echo', (d, reply) => reply(d));
  session.on('join', (room, reply) => {
    session.join(String(room));
    reply(true);
  });
  session.on('say', (d) => {
    const { room, text } = (d ?? {}) as { room?: unknown; text?: unknown };
    (typeof room === 'string' ? rt.to(room) : session.broadcast).emit('chat', text);
  });
  session.on('up', (d) => {
    const { c, n } = (d ?? {}) as { c?: unknown; n?: unknown };
    // Only the good clients' emits are counted (fuzz sessions may send `up` too; they get no entry).
    if (typeof c !== 'string' || !c.startsWith('good-') || typeof n !== 'number') return;
    const u = (ups[session.id] ??= { c, count: 0, problems: [] });
    if (n !== u.count + 1 && u.problems.length < 20) u.problems.push(`up ${n} after ${u.count}`);
    u.count = Math.max(u.count, n);
  });
  session.on('bad', (kind, reply) => {
    const { how, what } = (kind ?? {}) as { how?: unknown; what?: unknown };
    if (how === 'emit') session.emit('bad', unencodable(what));
    else if (how === 'throw') throw new Error('handler throws');
    else reply(unencodable(what));
  });
});

let tick = 0;
let ticker: NodeJS.Timeout | undefined = setInterval(() => rt.emit('tick', ++tick), 50);

const memTimer = setInterval(() => {
  const m = process.memoryUsage();
  send({ t: 'mem', rss: m.rss, heap: m.heapUsed, at: Date.now() });
}, 250);
const gc = (globalThis as { gc?: () => void }).gc;
const gcTimer = setInterval(() => {
  gc?.();
  send({ t: 'gcMem', heap: process.memoryUsage().heapUsed, at: Date.now() });
}, 1000);

process.on('message', (m: ToServer) => {
  if (m.t === 'stats') send({ t: 'stats', stats: { sessions: rt.sessions, created, tick, ups, log } });
  else if (m.t === 'quiet') {
    clearInterval(ticker);
    ticker = undefined;
    send({ t: 'quiet', tick });
  }
});
// The parent went away without stopping us: do not outlive it.
process.on('disconnect', () => {
  clearInterval(memTimer);
  clearInterval(gcTimer);
  process.exit(0);
});
http.listen(0, '127.0.0.1', () => send({ t: 'ready', port: (http.address() as AddressInfo).port }));
