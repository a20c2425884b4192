import { describe, expect, it, vi } from 'vitest';
import { rig, useMsw } from './harness';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

describe('credentials a transport cannot carry', () => {
  it('headers only: WebSocket (which cannot send headers) is skipped, SSE opens with them, and the client never stops', async () => {
    const r = rig({ auth: () => ({ headers: { Authorization: 'Bearer t' } }) });
    // What a server requiring the header answers a WebSocket handshake without it.
    r.fake.behaviour.websocket = { status: 401 };
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['sse']);
    expect(r.fake.handshakes[0]?.headers?.get('Authorization')).toBe('Bearer t');
    expect(r.of('fallback')).toEqual([{ from: 'websocket', to: 'sse', reason: 'websocket cannot send the credential (auth returned headers and no token)' }]);
    expect(r.of('reconnecting')).toEqual([]);
    expect(r.of('close')).toEqual([]);
    expect(r.of('error')).toEqual([]);
  });

  it('headers only, and the upgrade probe does not try WebSocket either', async () => {
    const r = rig({ auth: () => ({ headers: { Authorization: 'Bearer t' } }), upgradeProbeMs: 1000 });
    r.client.connect();
    await waitOpen(r);
    await r.clock.advance(60_000); // several probe periods
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['sse']);
    expect(r.client.transport).toBe('sse');
  });

  it('a token: WebSocket carries it in a subprotocol and is tried first as usual', async () => {
    const r = rig({ auth: () => ({ token: 'tok', headers: { Authorization: 'Bearer t' } }) });
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('websocket');
    expect(r.fake.handshakes[0]?.query.get('access_token')).toBe('tok');
    expect(r.fake.handshakes[0]?.url).not.toContain('tok');
  });

  it('headers only with WebSocket the only transport: it is tried (nothing better exists) and the refusal is reported', async () => {
    const r = rig({ auth: () => ({ headers: { Authorization: 'Bearer t' } }), transports: ['websocket'] });
    r.fake.behaviour.websocket = { status: 401 };
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('closed'), { timeout: 3000 });
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['websocket', 'websocket']); // once more after a refresh
    expect(r.of('error').map((e) => e.code)).toEqual(['unauthorized']);
  });
});

describe('the resume secret and the token never go into a URL', () => {
  it.each(['websocket', 'sse', 'polling'] as const)('over %s: handshakes, resumes, polls and POSTs carry them in headers or a subprotocol', async (transport) => {
    const r = rig({ transports: [transport], auth: () => ({ token: 'TOKEN-1' }) });
    const got = (): unknown[] => r.messages.map(([, d]) => d);
    r.client.connect();
    await waitOpen(r);
    r.client.emit('n', 1);
    r.fake.push('n', 'a');
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual([1]), { timeout: 3000 });
    await vi.waitFor(() => expect(got()).toEqual(['a']), { timeout: 3000 });
    r.fake.drop();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    await r.clock.advance(1000);
    await waitOpen(r);
    r.client.emit('n', 2);
    r.fake.push('n', 'b');
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual([1, 2]), { timeout: 3000 });
    await vi.waitFor(() => expect(got()).toEqual(['a', 'b']), { timeout: 3000 });

    // The server read the first session's secret and the token where the protocol puts them, and resumed.
    const [first, resume] = r.fake.handshakes.map((h) => h.query);
    expect(first!.get('secret')).toBeNull(); // nothing to resume yet
    expect(resume!.get('sid')).toBe(r.client.sessionId);
    expect(resume!.get('secret')).toMatch(/^secret-/);
    expect(resume!.get('access_token')).toBe('TOKEN-1');
    expect(r.of('resync')).toEqual([]);
    // No URL the browser could print holds either.
    expect(r.fake.urls.length).toBeGreaterThanOrEqual(2);
    for (const url of r.fake.urls) expect(url).not.toMatch(/secret|access_token|TOKEN-1/);
  });
});
