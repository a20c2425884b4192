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
    expect(r.of('reconnecting').map((e) => [e.transport, e.delayMs, e.reason])).toEqual([
      ['sse', 0, 'websocket cannot send the credential (auth returned headers and no token)'],
    ]);
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

  it('a token: WebSocket carries it in the query and is tried first as usual', async () => {
    const r = rig({ auth: () => ({ token: 'tok', headers: { Authorization: 'Bearer t' } }) });
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('websocket');
    expect(r.fake.handshakes[0]?.query.get('access_token')).toBe('tok');
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
