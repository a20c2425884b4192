/**
 * The SDK client against the real server, presenting a browser's `Origin` on every request (as a page would): a
 * refused origin ends the client with `origin_rejected` on whichever transport it meets first, without retrying.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeError } from '../../../src/client/errors';
import type { TransportName } from '../../../src/protocol/frames';
import type { FetchFn, WebSocketConstructor } from '../../../src/transports/environment';
import { cleanup, connectClient, sleep, startHarness, TRANSPORTS, waitUntil, whenOpen } from './harness';

afterEach(cleanup);

/** Node's WebSocket and fetch, sending `origin` as a browser page on that origin would. */
function asPageOn(origin: string): { WebSocket: WebSocketConstructor; fetch: FetchFn } {
  class PageWebSocket extends NodeWebSocket {
    constructor(url: string) {
      super(url, { headers: { Origin: origin } });
    }
  }
  return {
    WebSocket: PageWebSocket as unknown as WebSocketConstructor,
    fetch: (input, init = {}) => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), Origin: origin } }),
  };
}

describe('a page on a refused origin', () => {
  it.each(TRANSPORTS)('over %s: stops at once with origin_rejected naming the origin, not unauthorized', async (transport: TransportName) => {
    const h = await startHarness({ cors: { origins: ['https://app.example'] } });
    const { client, of } = await connectClient(h.base, { transports: [transport], ...asPageOn('https://evil.example') });
    await waitUntil(() => client.state === 'closed', 5000, 'client closed');
    const [closed] = of('close');
    expect(closed?.error).toBeInstanceOf(RealtimeError);
    expect(closed?.error?.code).toBe('origin_rejected');
    expect(closed?.error?.status).toBe(403);
    expect(closed?.error?.message).toContain('https://evil.example');
    expect(closed?.error?.message).toContain('cors.origins');
    // Retrying cannot help, so it did not: one attempt, no reconnect scheduled.
    expect(of('transportFailed')).toHaveLength(1);
    expect(of('reconnecting')).toHaveLength(0);
    expect(h.sessions).toHaveLength(0);
  });

  it('a WebSocket refusal moves on to SSE, whose refusal ends it: no retries, no polling', async () => {
    const h = await startHarness();
    const { client, of } = await connectClient(h.base, asPageOn('http://localhost:5173'));
    await waitUntil(() => client.state === 'closed', 5000, 'client closed');
    expect(of('transportFailed').map((f) => [f.transport, f.failure.code])).toEqual([
      ['websocket', 'origin_rejected'],
      ['sse', 'origin_rejected'],
    ]);
    expect(of('close')[0]?.error?.code).toBe('origin_rejected');
  });

  it.each(TRANSPORTS)('a listed origin opens over %s', async (transport: TransportName) => {
    const h = await startHarness({ cors: { origins: ['https://app.example'] } });
    const { client } = await connectClient(h.base, { transports: [transport], ...asPageOn('https://app.example') });
    await whenOpen(client, transport);
    expect(h.sessions).toHaveLength(1);
  });
});

describe('a same-origin page behind a proxy that hides its origin (TLS terminated, no trustProxy)', () => {
  it('is refused over WebSocket, which sends no Sec-Fetch-Site, and works over SSE, which does; WebSocket is not probed again', async () => {
    const h = await startHarness();
    const page = asPageOn('https://app.example');
    // What a browser adds to its own fetches (never to WebSocket handshakes): the proof the page is same-origin.
    const fetchFromPage: FetchFn = (input, init = {}) => page.fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), 'Sec-Fetch-Site': 'same-origin' } });
    const { client, of } = await connectClient(h.base, { WebSocket: page.WebSocket, fetch: fetchFromPage, upgradeProbeMs: 50 });
    await whenOpen(client, 'sse');
    await sleep(600); // a dozen probe periods
    expect(of('transportFailed').map((f) => [f.transport, f.probe, f.failure.code])).toEqual([['websocket', false, 'origin_rejected']]);
    expect(client.state).toBe('open');
    expect(of('transport').map((t) => [t.transport, t.reason])).toEqual([['sse', 'fallback']]);
  });
});
