/**
 * Behind a proxy that refuses WebSocket and holds every event stream until it ends, the race must settle on polling.
 * The SSE handshake waits; polling races it at `raceAfterMs` and joins the session; the server ends the SSE stream
 * with close{replaced}, and only then does the proxy let out what it held: a stale welcome followed by that close.
 * That welcome must not win (before, the client opened on it, was replaced, reopened SSE and did it again every
 * ~1.5 s, for ever). Messages flow both ways all along: every one runs or arrives exactly once.
 *
 * The reference server and the proxy run in this process on free loopback ports; the client is ours, in Node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportName } from '../../../src/protocol/frames';
import type { ClientOptions } from '../../../src/client/options';
import type { Session } from '../../../src/server';
import { cleanup, connectClient, sleep, startHarness, waitUntil } from '../integration/harness';
import { startBufferingProxy, type BufferingProxy } from './buffering-proxy';

/** How long the client must stay put on polling once it got there. */
const SETTLED_FOR_MS = 15_000;
/** Emits and server messages, one of each every this many ms. */
const TICK_MS = 50;

const proxies: BufferingProxy[] = [];
const tickers: ReturnType<typeof setInterval>[] = [];
afterEach(async () => {
  for (const t of tickers.splice(0)) clearInterval(t);
  await cleanup();
  for (const p of proxies.splice(0)) await p.close();
});

/** Runs per emitted `n` on the server, deliveries per message `n` on the client. */
const count = (counts: Map<number, number>, n: number): void => void counts.set(n, (counts.get(n) ?? 0) + 1);
const notOnce = (counts: Map<number, number>, upTo: number): string[] => {
  const bad: string[] = [];
  for (let n = 1; n <= upTo; n++) if (counts.get(n) !== 1) bad.push(`${n}×${counts.get(n) ?? 0}`);
  return bad;
};

describe('behind a proxy that refuses WebSocket and holds event streams until they end', () => {
  // One case per event-stream reader the client has in Node: event-source-polyfill (what an app passes as its
  // EventSource) and fetch with our own parser (no EventSource given).
  const readers: [string, ClientOptions][] = [
    ['event-source-polyfill', {}],
    ['fetch and our parser', { EventSource: undefined }],
  ];

  it.each(readers)('settles on polling and stays there, nothing lost or repeated (SSE read by %s)', async (_reader, options) => {
    const h = await startHarness();
    const proxy = await startBufferingProxy({ host: '127.0.0.1', port: h.port });
    proxies.push(proxy);
    const runs = new Map<number, number>();
    h.rt.on('connection', (s: Session) => s.on('up', (n) => count(runs, n as number)));

    const started = Date.now();
    const { client, of } = await connectClient(`http://127.0.0.1:${proxy.port}/realtime`, options);
    const delivered = new Map<number, number>();
    client.on('down', (n) => count(delivered, n as number));
    const changes: { at: number; transport: TransportName }[] = [];
    client.lifecycle.on('transport', ({ transport }) => void changes.push({ at: Date.now() - started, transport }));

    let sent = 0;
    let emitted = 0;
    tickers.push(
      setInterval(() => {
        client.emit('up', ++sent);
        // The server's messages go to the session the client holds, whichever connection carries it now.
        const session = h.sessions.find((s) => s.id === client.sessionId);
        if (session) session.emit('down', ++emitted);
      }, TICK_MS),
    );

    const openTimeoutMs = 5000; // the SSE default: settling must come from the race, not from waiting this out
    await waitUntil(() => client.state === 'open' && client.transport === 'polling', openTimeoutMs, () => `open on polling (transport ${client.transport}, changes ${JSON.stringify(changes)})`);
    const settledAt = Date.now();
    await sleep(SETTLED_FOR_MS);
    const during = (at: number): boolean => at > settledAt - started;
    expect(changes.filter((c) => during(c.at)), 'transport changes after settling on polling').toEqual([]);
    expect(client.transport).toBe('polling');
    expect(of('open').map((e) => e.transport), 'opens over the whole run').toEqual(['polling']);

    for (const t of tickers.splice(0)) clearInterval(t);
    await waitUntil(() => client.queued.messages === 0 && runs.size >= sent && delivered.size >= emitted, 10_000, () => `everything across (sent ${sent}, ran ${runs.size}; emitted ${emitted}, delivered ${delivered.size})`);
    await sleep(200); // a duplicate run or delivery would land now
    expect(sent).toBeGreaterThan(SETTLED_FOR_MS / TICK_MS / 2);
    expect(notOnce(runs, sent), 'emits whose handler did not run exactly once').toEqual([]);
    expect(notOnce(delivered, emitted), 'messages not delivered exactly once').toEqual([]);
    expect(of('resync')).toEqual([]);
    expect(h.sessions).toHaveLength(1);
    expect(proxy.counters.refusedUpgrades).toBeGreaterThan(0);
  }, SETTLED_FOR_MS + 30_000);
});
