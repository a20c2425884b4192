/** The soak's Node clients (`ws` injected): each emits a counter, makes requests, and records what it heard. */
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import { RealtimeError } from '../../../src/client/errors';
import type { TransportName } from '../../../src/protocol/frames';
import { loadEventSourcePolyfill, type WebSocketConstructor } from '../../../src/transports/environment';
import type { Padder } from './padding';
import type { ClientGroup, ClientSnapshot } from './types';

const MIXES: TransportName[][] = [['websocket', 'sse', 'polling'], ['websocket', 'sse', 'polling'], ['sse', 'polling'], ['polling'], ['websocket']];
/** Lifecycle events kept per client: enough to reach back to the start of a bounded run, so a failing run can show those around the moment it went wrong. */
const KEPT_EVENTS = 400;
/** Lifecycle events kept with a resync: the reconnects that led to it. */
const TRAIL = 12;

/**
 * `count` clients, each emitting a counter every `emitEveryMs` and a request every `requestEveryMs`. `startedAt`
 * (Date.now() of the soak's start) makes their event times comparable with the fault timeline.
 */
export async function nodeClients(url: string, count: number, emitEveryMs = 50, requestEveryMs = 400, pad?: Padder, startedAt = Date.now()): Promise<ClientGroup> {
  const EventSource = await loadEventSourcePolyfill();
  const latencies: number[] = [];
  const requests = { made: 0, resolved: 0, rejected: {} as Record<string, number> };
  const sinceStart = (): number => Date.now() - startedAt;
  const all = Array.from({ length: count }, (_, i) => {
    const snap: ClientSnapshot = { id: `c${i}`, sessionId: null, state: 'idle', ticks: {}, lostSessions: [], resyncReasons: [], resent: 0, accepted: 0, pending: 0, switches: 0, transports: [], recent: [], resyncTrails: [] };
    const client = new RealtimeClient<{ tick: { n: number; t: number; pad?: string } }, { up: { c: string; n: number; pad?: string | undefined } }>(url, {
      transports: MIXES[i % MIXES.length]!,
      WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
      EventSource,
      storage: null,
      openTimeoutMs: { websocket: 1500, sse: 1500, polling: 3000 },
      backoff: { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.5 },
      retriesPerTransport: 2,
      upgradeProbeMs: 1000,
      maxQueuedMessages: 100_000,
      maxQueuedBytes: 64 * 1024 * 1024,
    });
    client.on('tick', ({ n, t }) => {
      latencies.push(Date.now() - t);
      const got = (snap.ticks[client.sessionId!] ??= []);
      const before = got.at(-1);
      // The first gap, repeat or step back, when it happened: where a failing run's reader starts looking.
      if (before !== undefined && n !== before + 1 && !snap.oddTick) snap.oddTick = { atMs: sinceStart(), what: `tick ${n} after ${before} (session ${client.sessionId})` };
      got.push(n);
    });
    const note = (what: string, detail: unknown): void => {
      snap.recent!.push(`${sinceStart()} ${what} ${JSON.stringify(detail)}`);
      if (snap.recent!.length > KEPT_EVENTS) snap.recent!.shift();
    };
    for (const what of ['state', 'transportFailed', 'reconnecting', 'fallback', 'resync', 'close'] as const) client.lifecycle.on(what, (e: unknown) => note(what, e));
    client.lifecycle.on('error', (e) => note('error', { code: e.code, message: e.message }));
    client.lifecycle.on('transport', (e) => {
      snap.transports.push(e.transport);
      if (e.previous !== null) snap.switches++;
    });
    // The soak's faults make whole walks fail (transport_failed): expected, and heard here, not printed.
    client.lifecycle.on('error', () => {});
    client.lifecycle.on('resync', (e) => {
      snap.lostSessions.push(e.previousSessionId);
      snap.resyncReasons.push(e.reason);
      snap.resent += e.resent;
      snap.resyncTrails!.push({ atMs: sinceStart(), sid: e.previousSessionId, recent: snap.recent!.slice(-TRAIL) });
    });
    return { snap, client };
  });
  const traffic = setInterval(() => {
    for (const { snap, client } of all) {
      try {
        client.emit('up', { c: snap.id, n: snap.accepted + 1, pad: pad?.next() });
        snap.accepted++;
      } catch (error) {
        // A refused emit was never accepted, so the counter does not advance: nothing accepted is lost.
        if (!(error instanceof RealtimeError)) throw error;
      }
    }
  }, emitEveryMs);
  const asking = setInterval(() => {
    for (const { snap, client } of all) {
      requests.made++;
      snap.pending++;
      client
        .request('echo', { c: snap.id }, { timeout: 4000 })
        .then(
          () => void requests.resolved++,
          (e: RealtimeError) => void (requests.rejected[e.code] = (requests.rejected[e.code] ?? 0) + 1),
        )
        .finally(() => snap.pending--);
    }
  }, requestEveryMs);
  return {
    async snapshot() {
      for (const { snap, client } of all) {
        snap.sessionId = client.sessionId;
        snap.state = client.state;
      }
      return { clients: all.map((c) => c.snap), latencies, requests };
    },
    async stopTraffic() {
      clearInterval(traffic);
      clearInterval(asking);
    },
    async close() {
      clearInterval(traffic);
      clearInterval(asking);
      for (const { client } of all) client.close();
    },
  };
}
