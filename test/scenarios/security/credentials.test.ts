/**
 * Credentials in URLs (README "Security"): the client puts the auth token into the query (`access_token`) only when
 * the auth provider returns `token`, which is the opt-in for transports that cannot set headers; `headers` never go
 * into a URL. Checked against the real server, whose `authenticate` hook sees every handshake, poll and POST.
 */
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, connectClient, startHarness, TRANSPORTS, waitUntil, whenOpen } from '../integration/harness';

afterEach(cleanup);

interface Seen {
  url: string;
  authorization: string | undefined;
}

async function run(transport: (typeof TRANSPORTS)[number], auth: () => { token?: string; headers?: Record<string, string> }) {
  const seen: Seen[] = [];
  const h = await startHarness({
    authenticate: (req: IncomingMessage) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      return true;
    },
  });
  const got: unknown[] = [];
  h.rt.on('connection', (s) => s.on('n', (d) => void got.push(d)));
  const { client } = await connectClient(h.base, { transports: [transport], auth });
  await whenOpen(client, transport);
  client.emit('n', 1);
  await waitUntil(() => got.length === 1 && client.queued.messages === 0, 5000, 'the emit acknowledged');
  return seen;
}

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('auth headers never appear in a URL, and no access_token is sent without a token', async () => {
    const seen = await run(transport, () => ({ headers: { Authorization: 'Bearer HEADER-SECRET' } }));
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.url).not.toContain('HEADER-SECRET');
      expect(new URL(s.url, 'http://x').searchParams.has('access_token')).toBe(false);
    }
    // Where the platform can set headers (fetch for polls and POSTs, the polyfill for SSE) they are sent as headers.
    if (transport !== 'websocket') expect(seen.every((s) => s.authorization === 'Bearer HEADER-SECRET')).toBe(true);
  });

  it('a token is sent as access_token on every request (the opt-in for WebSocket / EventSource)', async () => {
    const seen = await run(transport, () => ({ token: 'TOKEN-1' }));
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(new URL(s.url, 'http://x').searchParams.get('access_token')).toBe('TOKEN-1');
  });
});
