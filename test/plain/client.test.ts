/**
 * Plain mode end to end in Node: a real `RealtimeClient` (with `ws` injected, Node's fetch) against servers that do
 * not speak the protocol (see servers.ts): WebSocket first, then the hand-written SSE route, then JSON polling.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../src/client/realtime-client';
import type { ClientOptions } from '../../src/client/options';
import type { PlainEndpoints } from '../../src/plain/plain';
import type { TransportFailure } from '../../src/transports/transport';
import type { WebSocketConstructor } from '../../src/transports/environment';
import { startPlainServer, until, type PlainServer, type PlainServerOptions } from './servers';

type Client = RealtimeClient<Record<string, unknown>, Record<string, unknown>>;

const servers = new Set<PlainServer>();
const clients = new Set<Client>();

afterEach(async () => {
  for (const c of clients) c.close();
  clients.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
});

async function server(options?: PlainServerOptions): Promise<PlainServer> {
  const s = await startPlainServer(options);
  servers.add(s);
  return s;
}

function client(s: PlainServer, options: ClientOptions = {}, endpoints: Partial<PlainEndpoints> = {}): Client & { got: [string, unknown][]; failures: TransportFailure[] } {
  const c = new RealtimeClient<Record<string, unknown>, Record<string, unknown>>(s.origin, {
    protocol: 'plain',
    endpoints: { websocket: s.wsUrl, sse: '/events', polling: '/poll', send: '/send', pollIntervalMs: 50, ...endpoints },
    WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
    storage: null,
    backoff: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  clients.add(c);
  const got: [string, unknown][] = [];
  for (const name of ['count', 'message', 'greeting', 'tick']) c.on(name, (d) => got.push([name, d]));
  const failures: TransportFailure[] = [];
  c.lifecycle.on('transportFailed', (e) => failures.push(e.failure));
  return Object.assign(c, { got, failures });
}

const ticksOf = (got: [string, unknown][]): number[] => got.filter(([e]) => e === 'tick').map(([, d]) => (d as { n: number }).n);

describe('plain mode over WebSocket (a bare ws server)', () => {
  it('opens, maps JSON, text and binary frames, and sends emits as {event, data}', async () => {
    const s = await server();
    const c = client(s);
    await until(() => c.got.filter(([e]) => e === 'count').length >= 2, 5000, 'two counts');
    expect(c.transport).toBe('websocket');
    expect(c.got.filter(([e]) => e === 'count').map(([, d]) => d).slice(0, 2)).toEqual([1, 2]);
    const messages = c.got.filter(([e]) => e === 'message').map(([, d]) => d);
    expect(messages[0]).toBe('plain text');
    expect(messages[1]).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(messages[1] as ArrayBuffer)]).toEqual([1, 2, 3]);

    c.emit('say', { x: 1 });
    c.emit('say', 'two');
    await until(() => s.wsReceived.length >= 2, 5000, 'two frames at the ws server');
    expect(s.wsReceived.map((t) => JSON.parse(t) as unknown)).toEqual([
      { event: 'say', data: { x: 1 } },
      { event: 'say', data: 'two' },
    ]);
    expect(s.posted).toEqual([]);
  });

  it('rejects request() with invalid_argument', async () => {
    const s = await server();
    const c = client(s);
    await expect(c.request('echo', 1)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('plain mode fallback to a hand-written SSE route', () => {
  it('falls back at once when the WebSocket is refused, and receives named and unnamed events with JSON data', async () => {
    const s = await server({ websocket: 'refuse' });
    const c = client(s);
    await until(() => ticksOf(c.got).length >= 2, 5000, 'two ticks over SSE');
    expect(c.transport).toBe('sse');
    expect(s.wsRefused).toBeGreaterThanOrEqual(1);
    expect(c.failures[0]).toMatchObject({ kind: 'network' });
    expect(c.got.slice(0, 3)).toEqual([
      ['message', { hello: 'world' }],
      ['message', 'just text'],
      ['greeting', { lines: ['a', 'b'] }],
    ]);
    expect(s.sseRequests[0]!.lastEventId).toBeUndefined();
  });

  it('POSTs emits as JSON to the send endpoint, in order', async () => {
    const s = await server({ websocket: 'refuse' });
    const c = client(s);
    await until(() => c.transport === 'sse', 5000, 'SSE');
    for (let i = 1; i <= 5; i++) c.emit('say', i);
    await until(() => s.posted.length >= 5, 5000, 'five POSTs');
    expect(s.posted.map((p) => p.body)).toEqual([1, 2, 3, 4, 5].map((i) => ({ event: 'say', data: i })));
    expect(s.posted.every((p) => p.contentType?.startsWith('application/json'))).toBe(true);
  });

  it('resumes a dropped stream with Last-Event-ID: the route replays, nothing lost or repeated', async () => {
    const s = await server({ websocket: 'refuse', retryMs: 100 });
    const c = client(s);
    await until(() => ticksOf(c.got).length >= 3, 5000, 'three ticks');
    const before = ticksOf(c.got);
    expect(s.dropStreams()).toBe(1);
    const lastBefore = ticksOf(c.got).at(-1)!;
    await until(() => s.sseRequests.length >= 2, 5000, 'a second SSE request');
    await until(() => ticksOf(c.got).length >= before.length + 5, 5000, 'five more ticks');
    expect(s.sseRequests[1]!.lastEventId).toBe(String(lastBefore));
    const ticks = ticksOf(c.got);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBe(ticks[i - 1]! + 1);
    // The greeting is not sent again to a resuming client.
    expect(c.got.filter(([e]) => e === 'greeting')).toHaveLength(1);
  });

  it('honours retry: as the reconnect delay (instead of the backoff)', async () => {
    const s = await server({ websocket: 'refuse', retryMs: 400 });
    // Without retry: the backoff would wait 3 s.
    const c = client(s, { backoff: { initialMs: 3000, maxMs: 3000, jitter: 0 } });
    await until(() => c.got.some(([e]) => e === 'greeting'), 5000, 'the greeting (with retry:)');
    s.dropStreams();
    await until(() => s.sseRequests.length >= 2, 5000, 'the reconnect');
    const waited = s.sseRequests[1]!.at - s.dropTimes[0]!;
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(waited).toBeLessThan(2000);
  });
});

describe('plain mode without a send endpoint', () => {
  it('keeps emits made on SSE queued, and sends them once a WebSocket is used', async () => {
    const s = await server({ websocket: 'refuse' });
    const c = client(s, { retriesPerTransport: 1 }, { send: undefined, polling: undefined });
    await until(() => c.transport === 'sse', 5000, 'SSE');
    c.emit('say', 'waited');
    await new Promise((r) => setTimeout(r, 200));
    expect(s.posted).toEqual([]);
    expect(s.wsReceived).toEqual([]);
    // The WebSocket becomes available and the SSE route breaks: the walk wraps round to WebSocket.
    s.acceptWebSockets();
    s.setSse('html');
    s.dropStreams();
    await until(() => c.transport === 'websocket', 8000, 'WebSocket');
    await until(() => s.wsReceived.length >= 1, 5000, 'the queued emit over WebSocket');
    expect(s.wsReceived.map((t) => JSON.parse(t) as unknown)).toEqual([{ event: 'say', data: 'waited' }]);
    expect(s.posted).toEqual([]);
  });
});

describe('plain mode fallback to JSON polling', () => {
  it('moves on when an endpoint has no such route (404): a missing route means that transport is unavailable', async () => {
    const s = await server({ websocket: 'refuse' });
    const c = client(s, {}, { sse: '/no-such-route' });
    await until(() => c.transport === 'polling', 5000, 'polling');
    expect(c.failures.map((f) => [f.kind, f.status])).toEqual([
      ['network', undefined],
      ['http', 404],
    ]);
    expect(c.state).toBe('open');
  });

  it('polls with the cursor when WebSocket and SSE are blocked, and POSTs emits', async () => {
    const s = await server({ websocket: 'refuse', sse: 'html' });
    const c = client(s);
    await until(() => c.transport === 'polling', 5000, 'polling');
    await until(() => ticksOf(c.got).length >= 3, 5000, 'three ticks by polling');
    expect(c.failures.map((f) => f.kind).slice(0, 2)).toEqual(['network', 'content_type']);
    expect(s.pollCursors[0]).toBeUndefined();
    expect(s.pollCursors.slice(1).every((cur) => cur !== undefined)).toBe(true);
    const ticks = ticksOf(c.got);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBe(ticks[i - 1]! + 1);
    c.emit('say', 'by post');
    await until(() => s.posted.length >= 1, 5000, 'a POST');
    expect(s.posted[0]!.body).toEqual({ event: 'say', data: 'by post' });
  });
});
