/**
 * Well-behaved clients streaming through the whole fuzz run: the project's own RealtimeClient in Node, one pinned to
 * each transport and one with the default walk, from 127.0.0.1 (the fuzz comes from 127.77/16). Each emits `up`
 * 1, 2, 3… every 100 ms, asks `echo` every 200 ms, and checks the ticker's broadcast. A failure is anything a user
 * would notice: a request that fails, times out or comes back different, a `resync`, a tick lost, repeated or out
 * of order, a client that closes; emits lost or run twice are counted by the server (`ups`) and checked at the end.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient, type TransportName, type WebSocketConstructor } from '../../../../src/index';

type Client = RealtimeClient<Record<string, unknown>, Record<string, unknown>>;

export interface GoodClient {
  name: string;
  client: Client;
  /** Up to 30 descriptions of what went wrong (the count goes on in `failureCount`). */
  failures: string[];
  failureCount: number;
  emitted: number;
  requests: { sent: number; answered: number; inFlight: number };
  ticks: { first: number | null; last: number | null; count: number };
  reconnects: number;
}

const MAX_IN_FLIGHT = 20;

function fail(g: GoodClient, what: string): void {
  g.failureCount++;
  if (g.failures.length < 30) g.failures.push(`${new Date().toISOString().slice(11, 23)} ${what}`);
}

export interface GoodClients {
  all: GoodClient[];
  sessionIds(): string[];
  /** Stops emitting and asking (the ticker keeps going until the server is told to be quiet). */
  stopActivity(): void;
  close(): void;
}

export function startGoodClients(base: string): GoodClients {
  const plans: { name: string; transports?: TransportName[] }[] = [
    { name: 'good-websocket', transports: ['websocket'] },
    { name: 'good-sse', transports: ['sse'] },
    { name: 'good-polling', transports: ['polling'] },
    { name: 'good-default' },
  ];
  const timers: NodeJS.Timeout[] = [];
  /** Set by `close()`: the clients' own close is not a failure. */
  let closing = false;
  const all = plans.map(({ name, transports }): GoodClient => {
    const client: Client = new RealtimeClient(base, {
      WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
      storage: null,
      ...(transports ? { transports } : {}),
    });
    const g: GoodClient = { name, client, failures: [], failureCount: 0, emitted: 0, requests: { sent: 0, answered: 0, inFlight: 0 }, ticks: { first: null, last: null, count: 0 }, reconnects: 0 };
    client.on('tick', (d) => {
      const n = d as number;
      if (g.ticks.last !== null && n !== g.ticks.last + 1) fail(g, `tick ${n} after ${g.ticks.last}`);
      g.ticks.first ??= n;
      g.ticks.last = g.ticks.last === null ? n : Math.max(g.ticks.last, n);
      g.ticks.count++;
    });
    client.lifecycle.on('resync', (e) => fail(g, `resync (${e.reason}, ${e.resent} re-sent)`));
    client.lifecycle.on('close', (e) => closing || fail(g, `closed: ${e.reason}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`));
    client.lifecycle.on('reconnecting', () => void g.reconnects++);
    let asks = 0;
    timers.push(
      setInterval(() => {
        if (client.state === 'closed') return;
        client.emit('up', { c: name, n: ++g.emitted });
        if (g.emitted % 2 === 0 || g.requests.inFlight >= MAX_IN_FLIGHT) return;
        const sent = { c: name, n: ++asks, pad: 'p'.repeat(asks % 300) };
        g.requests.sent++;
        g.requests.inFlight++;
        client.request('echo', sent).then(
          (reply) => {
            g.requests.answered++;
            if (JSON.stringify(reply) !== JSON.stringify(sent)) fail(g, `echo ${sent.n} answered ${JSON.stringify(reply).slice(0, 80)}`);
          },
          (err: { code?: string; message?: string }) => fail(g, `echo ${sent.n} failed: ${err.code}: ${err.message}`),
        ).finally(() => void g.requests.inFlight--);
      }, 100),
    );
    return g;
  });
  return {
    all,
    sessionIds: () => all.map((g) => g.client.sessionId).filter((s): s is string => s !== null),
    stopActivity() {
      for (const t of timers.splice(0)) clearInterval(t);
    },
    close() {
      closing = true;
      for (const t of timers.splice(0)) clearInterval(t);
      for (const g of all) g.client.close();
    },
  };
}
