import { describe, expect, it, vi } from 'vitest';
import { rig, useMsw } from './harness';
import { settle } from './manual-clock';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

describe('HTTP status rules', () => {
  it('401: asks the auth provider once more for a fresh credential, then stops with unauthorized', async () => {
    let calls = 0;
    const r = rig({ transports: ['polling'], auth: () => ({ token: `t${++calls}`, headers: { Authorization: `Bearer t${calls}` } }) });
    r.fake.behaviour.polling = { status: 401 };
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('closed'));
    expect(calls).toBe(2);
    expect(r.fake.handshakes.map((h) => h.query.get('access_token'))).toEqual(['t1', 't2']);
    expect(r.fake.handshakes.map((h) => h.headers?.get('authorization'))).toEqual(['Bearer t1', 'Bearer t2']);
    expect(r.of('error').map((e) => [e.code, e.status])).toEqual([['unauthorized', 401]]);
    expect(r.of('close')[0]!.error?.code).toBe('unauthorized');
    expect(r.client.pendingTimers).toBe(0);
  });

  it('401 with a credential that the refresh fixes: connects', async () => {
    const r = rig({ transports: ['polling'], auth: () => ({ token: 'fresh' }) });
    r.fake.behaviour.polling = { status: 401 };
    const heal = r.client.lifecycle.on('transportFailed', () => {
      r.fake.behaviour.polling = 'ok';
      heal();
    });
    r.client.connect();
    await waitOpen(r);
    expect(r.fake.handshakes).toHaveLength(2);
  });

  it('403 without an auth provider stops at once', async () => {
    const r = rig({ transports: ['polling'] });
    r.fake.behaviour.polling = { status: 403 };
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('closed'));
    expect(r.fake.handshakes).toHaveLength(1);
    expect(r.of('error')[0]).toMatchObject({ code: 'unauthorized', status: 403 });
  });

  it('an in-band 401 on WebSocket (browsers hide the upgrade status) follows the same rule', async () => {
    const r = rig({ transports: ['websocket'] });
    r.fake.behaviour.websocket = { status: 401 };
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('closed'));
    expect(r.of('error')[0]).toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('429 with Retry-After waits exactly that long before trying again', async () => {
    const r = rig({ transports: ['polling'] });
    r.fake.behaviour.polling = { status: 429, retryAfter: 7 };
    r.client.connect();
    await vi.waitFor(() => expect(r.of('reconnecting')).toHaveLength(1));
    expect(r.of('reconnecting')[0]!.delayMs).toBe(7000);
    r.fake.behaviour.polling = 'ok';
    await r.clock.advance(6999);
    expect(r.fake.handshakes).toHaveLength(1);
    await r.clock.advance(1);
    await waitOpen(r);
  });

  it('503 with Retry-After waits too; 503 without it backs off like any 5xx', async () => {
    const r = rig({ transports: ['polling'], backoff: { initialMs: 1000, jitter: 0 } });
    r.fake.behaviour.polling = { status: 503, retryAfter: 3 };
    r.client.connect();
    await vi.waitFor(() => expect(r.of('reconnecting')).toHaveLength(1));
    r.fake.behaviour.polling = { status: 503 };
    await r.clock.advance(3000);
    await vi.waitFor(() => expect(r.of('reconnecting')).toHaveLength(2));
    expect(r.of('reconnecting').map((e) => e.delayMs)).toEqual([3000, 1000]);
  });

  it('other 4xx stop with a clear error and no retry', async () => {
    const r = rig({ transports: ['polling'] });
    r.fake.behaviour.polling = { status: 404 };
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('closed'));
    expect(r.of('error')[0]).toMatchObject({ code: 'rejected', status: 404 });
    expect(r.of('error')[0]!.message).toContain('404');
    await r.clock.advance(60_000);
    expect(r.fake.handshakes).toHaveLength(1);
  });

  it('5xx and network errors are retried', async () => {
    const r = rig({ transports: ['sse', 'polling'], backoff: { initialMs: 1000, jitter: 0 } });
    r.fake.behaviour.sse = { status: 500 };
    r.fake.behaviour.polling = 'refuse';
    r.client.connect();
    await vi.waitFor(() => expect(r.of('reconnecting')).toHaveLength(1));
    expect(r.of('fallback')).toHaveLength(1);
    expect(r.of('transportFailed').map((f) => [f.transport, f.failure.kind, f.failure.status])).toEqual([
      ['sse', 'http', 500],
      ['polling', 'network', undefined],
    ]);
    expect(r.client.state).toBe('connecting');
    r.fake.behaviour.sse = 'ok';
    await r.clock.advance(1000);
    await waitOpen(r);
  });

  it('a pending request is rejected when the client stops for good', async () => {
    const r = rig({ transports: ['polling'] });
    r.fake.behaviour.polling = { status: 400 };
    const pending = r.client.request('echo', 1);
    r.client.connect();
    await expect(pending).rejects.toMatchObject({ code: 'rejected' });
    await settle();
  });
});
