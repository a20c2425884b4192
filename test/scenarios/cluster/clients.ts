/** SDK clients in Node that record what they receive per server process and per session, for the cluster tests. */
import { expect } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import type { TransportName } from '../../../src/protocol/frames';
import { loadEventSourcePolyfill, type WebSocketConstructor } from '../../../src/transports/environment';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Watched {
  transport: TransportName;
  client: RealtimeClient<{ tick: { e: string; n: number }; pub: number }, { up: { c: string; n: number } }>;
  /** Ticks per run (`epoch:sessionId`: a node's run of ticks for the session), in arrival order. */
  ticks: Map<string, number[]>;
  /** The publisher's counter, in arrival order. */
  pubs: number[];
  sessions: Set<string>;
  resyncs: number;
  accepted: number;
}

export async function watch(url: string, transport: TransportName): Promise<Watched> {
  const client = new RealtimeClient<{ tick: { e: string; n: number }; pub: number }, { up: { c: string; n: number } }>(url, {
    transports: [transport],
    WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
    EventSource: await loadEventSourcePolyfill(),
    storage: null,
    upgradeProbeMs: 0,
    backoff: { initialMs: 50, maxMs: 500, factor: 2, jitter: 0.5 },
    maxQueuedMessages: 100_000,
  });
  const w: Watched = { transport, client, ticks: new Map(), pubs: [], sessions: new Set(), resyncs: 0, accepted: 0 };
  client.on('pub', (n) => void w.pubs.push(n));
  client.on('tick', ({ e, n }) => {
    const key = `${e}:${client.sessionId}`;
    let list = w.ticks.get(key);
    if (!list) w.ticks.set(key, (list = []));
    list.push(n);
  });
  client.lifecycle.on('open', (o) => void w.sessions.add(o.sessionId));
  client.lifecycle.on('resync', () => void w.resyncs++);
  return w;
}

/** Every client emits `up` with its own counter every `everyMs`; returns the stop function. */
export function startTraffic(clients: readonly Watched[], everyMs = 20): () => void {
  const timer = setInterval(() => {
    for (const c of clients) {
      c.client.emit('up', { c: c.transport, n: c.accepted + 1 });
      c.accepted++;
    }
  }, everyMs);
  return () => clearInterval(timer);
}

/** Ticks received, all runs together. */
export const received = (c: Watched): number => [...c.ticks.values()].reduce((sum, list) => sum + list.length, 0);

/** One run of an emit's handler on some node: the emit's `n`, and whether the run was flagged a redelivery. */
export interface HandlerRun {
  n: number;
  redelivered: boolean;
  /** When it ran (monotonic µs, comparable across processes). */
  at: number;
}

/** What `checkEmits` counted: runs flagged `redelivered`, and repeated runs (each of an emit with a flagged run). */
export interface EmitCounts {
  redelivered: number;
  repeats: number;
}

/**
 * Checks the client's emits as the nodes handled them (`reported`, each run with when it ran): none dropped
 * (a node that died before a handler was done leaves its frame to the next holder), each emit's first run in order,
 * and an emit run more than once only if one of its runs is flagged `redelivered` (an old holder's late run of a
 * frame its successor already ran, flagged and in order, is such a repeat).
 */
export function checkEmits(c: Watched, reported: readonly HandlerRun[]): EmitCounts {
  // In the order the handlers ran (stable for ties): several nodes' reports reach this process in any order.
  const runs = [...reported].sort((a, b) => a.at - b.at);
  const flagged = new Set(runs.filter((r) => r.redelivered).map((r) => r.n));
  const first: number[] = [];
  const seen = new Set<number>();
  let repeats = 0;
  for (const r of runs) {
    if (!seen.has(r.n)) {
      seen.add(r.n);
      first.push(r.n);
      continue;
    }
    expect(flagged.has(r.n), `emit ${r.n} run twice, neither run flagged redelivered`).toBe(true);
    repeats++;
  }
  expect(first).toEqual([...first].sort((a, b) => a - b));
  expect(Array.from({ length: c.accepted }, (_, i) => i + 1).filter((n) => !seen.has(n))).toEqual([]);
  return { redelivered: runs.filter((r) => r.redelivered).length, repeats };
}
