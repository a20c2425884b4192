/**
 * Credentials in URLs (docs/security.md, docs/protocol.md "Where parameters travel"): neither the auth token nor
 * the session's resume secret ever goes into a URL, where a browser would print it with a failed request. HTTP
 * requests carry them in headers, a WebSocket handshake in a subprotocol; the server puts a token into
 * `Authorization` whatever carried it. Checked against the real server, whose `authenticate` hook sees every
 * handshake, poll and POST, through a drop and a resume.
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
  // A drop: the next handshake presents the session's secret.
  const sid = client.sessionId;
  h.killConnections();
  await waitUntil(() => client.state === 'reconnecting', 5000, 'the drop noticed');
  await whenOpen(client, transport);
  client.emit('n', 2);
  await waitUntil(() => got.length === 2 && client.queued.messages === 0, 5000, 'the second emit acknowledged');
  expect(client.sessionId).toBe(sid);
  expect(h.sessions).toHaveLength(1); // resumed, not a new session
  return { seen, secret: h.sessions[0]!.secret };
}

/** Nothing private in a URL: no `secret` or `access_token` parameter, and neither value anywhere. */
function expectNothingPrivate(url: string, values: string[]): void {
  const q = new URL(url, 'http://x').searchParams;
  expect(q.has('secret')).toBe(false);
  expect(q.has('access_token')).toBe(false);
  for (const v of values) expect(url).not.toContain(v);
}

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('auth headers never appear in a URL, and no access_token is sent without a token', async () => {
    const { seen, secret } = await run(transport, () => ({ headers: { Authorization: 'Bearer HEADER-SECRET' } }));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) expectNothingPrivate(s.url, ['HEADER-SECRET', secret]);
    // Where the platform can set headers (fetch for polls and POSTs, the polyfill for SSE) they are sent as headers.
    if (transport !== 'websocket') expect(seen.every((s) => s.authorization === 'Bearer HEADER-SECRET')).toBe(true);
  });

  it('a token reaches authenticate as Authorization: Bearer on every request, and neither it nor the resume secret is in a URL', async () => {
    const { seen, secret } = await run(transport, () => ({ token: 'TOKEN-1' }));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) {
      expect(s.authorization).toBe('Bearer TOKEN-1');
      expectNothingPrivate(s.url, ['TOKEN-1', secret]);
    }
  });
});
