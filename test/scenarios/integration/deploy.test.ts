/**
 * A deploy: the app calls `rt.close()` and its http server lingers until the process exits. Requests that reach it
 * meanwhile get 503 + Retry-After (SSE: in-band), never the app's 404, so no client stops with `rejected`; when the
 * next process listens, the clients come back.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRealtimeServer, type RealtimeServer } from '../../../src/server';
import { cleanup, connectClient, recordingLogger, sleep, startHarness, TRANSPORTS, whenOpen } from './harness';

let app: Server | undefined;
afterEach(async () => {
  await cleanup();
  app?.closeAllConnections();
  await new Promise((r) => (app?.listening ? app.close(r) : r(undefined)));
  app = undefined;
});

/** An app with a 404 for everything of its own, and the realtime server attached to its http server. */
async function appNode(): Promise<{ rt: RealtimeServer; port: number; base: string }> {
  app = createServer((_req, res) => void res.writeHead(404).end('app: not found'));
  const rt = createRealtimeServer({ server: app, heartbeatMs: 500, logger: recordingLogger() });
  await new Promise<void>((r) => app!.listen(0, '127.0.0.1', () => r()));
  const port = (app.address() as AddressInfo).port;
  return { rt, port, base: `http://127.0.0.1:${port}/realtime` };
}

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('a node shutting down makes the client wait and retry, not stop; the next process takes it', async () => {
    const old = await appNode();
    const { client, of } = await connectClient(old.base, { transports: [transport] });
    await whenOpen(client, transport);

    await old.rt.close(); // the http server still listens, as a process does until it exits
    await sleep(1500);
    expect(client.state).toBe('reconnecting');
    expect(of('close')).toEqual([]);
    const refusals = of('transportFailed').filter((f) => !f.opened);
    expect(refusals.length).toBeGreaterThan(0);
    // HTTP transports see the 503 and its Retry-After; a browser-like WebSocket sees only a failed handshake.
    if (transport !== 'websocket') {
      expect(refusals.every((f) => f.failure.status === 503 && f.failure.retryAfter === 1)).toBe(true);
      expect(of('reconnecting').slice(1).every((r) => r.delayMs === 1000)).toBe(true);
    }

    app!.closeAllConnections();
    await new Promise((r) => app!.close(r)); // the old process exits
    const next = await startHarness({}, old.port);
    await whenOpen(client, transport, 8000);
    expect(next.sessions).toHaveLength(1);
    expect(of('resync')).toHaveLength(1); // in-memory sessions die with the process (a shared store is issue 11)
    expect(of('close')).toEqual([]);
  });
});
