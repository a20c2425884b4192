/**
 * When the session cannot be resumed the client says so (`resync`) and keeps working; and `close()` leaves nothing
 * behind on either side. Per forced transport.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../../src/server';
import { cleanup, connectClient, sleep, startHarness, TRANSPORTS, waitUntil, whenOpen, type Harness } from './harness';

afterEach(cleanup);

/** Records `n` emits per session id. */
function recordEmits(h: Harness): Map<string, unknown[]> {
  const got = new Map<string, unknown[]>();
  h.rt.on('connection', (s: Session) => {
    const list: unknown[] = [];
    got.set(s.id, list);
    s.on('n', (d) => void list.push(d));
  });
  return got;
}

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('after a server restart on the same port (sessions lost) the client resyncs with unknown_session and keeps working', async () => {
    const h1 = await startHarness();
    const got1 = recordEmits(h1);
    const { client, of } = await connectClient(h1.base, { transports: [transport] });
    await whenOpen(client, transport);
    const oldSid = client.sessionId!;
    client.emit('n', 'before');
    await waitUntil(() => got1.get(oldSid)?.length === 1 && client.queued.messages === 0, 5000, 'the first emit acknowledged');

    await h1.close();
    await waitUntil(() => client.state === 'reconnecting', 5000, () => `the client to notice the shutdown (state ${client.state})`);
    client.emit('n', 'during the outage');

    const h2 = await startHarness({}, h1.port);
    const got2 = recordEmits(h2);
    await waitUntil(() => of('resync').length > 0, 8000, () => `a resync event (state ${client.state}, events ${JSON.stringify(of('transportFailed').slice(-2))})`);
    await whenOpen(client, transport);
    const newSid = client.sessionId!;
    expect(of('resync')).toEqual([{ reason: 'unknown_session', previousSessionId: oldSid, sessionId: newSid, resent: 0 }]);
    expect(newSid).not.toBe(oldSid);
    expect(h2.sessions.map((s) => s.id)).toEqual([newSid]);

    client.emit('n', 'after');
    await waitUntil(() => (got2.get(newSid)?.length ?? 0) >= 2 && client.queued.messages === 0, 5000, 'emits on the new server');
    expect(got2.get(newSid)).toEqual(['during the outage', 'after']);
    expect(got1.get(oldSid)).toEqual(['before']);
    expect(of('close')).toEqual([]);
  });

  it('after the grace period ran out the client resyncs with expired and keeps working', async () => {
    const h = await startHarness({ sessionGraceMs: 300 });
    const got = recordEmits(h);
    const { client, of } = await connectClient(h.base, { transports: [transport] });
    await whenOpen(client, transport);
    const oldSid = client.sessionId!;

    // Cut the client off for longer than the grace period.
    h.gates.websocket = h.gates.sse = h.gates.polling = true;
    h.killConnections();
    await waitUntil(() => h.rt.session(oldSid) === undefined, 5000, 'the session to expire on the server');
    expect(client.state).toBe('reconnecting');
    h.gates.websocket = h.gates.sse = h.gates.polling = false;

    await waitUntil(() => of('resync').length > 0, 8000, () => `a resync event (state ${client.state})`);
    await whenOpen(client, transport);
    const newSid = client.sessionId!;
    expect(of('resync')).toEqual([{ reason: 'expired', previousSessionId: oldSid, sessionId: newSid, resent: 0 }]);

    client.emit('n', 'after');
    await waitUntil(() => got.get(newSid)?.length === 1, 5000, 'the emit on the new session');
    expect(got.get(newSid)).toEqual(['after']);
    expect(got.get(oldSid)).toEqual([]);
  });

  it('close() rejects pending requests with closed, cancels every timer and lets the server see the connection go', async () => {
    const h = await startHarness({ heartbeatMs: 300 });
    let asked = 0;
    h.rt.on('connection', (s: Session) => {
      s.on('slow', () => void asked++); // never replies
    });
    const { client, of } = await connectClient(h.base, { transports: [transport] });
    await whenOpen(client, transport);
    const session = h.rt.session(client.sessionId!)!;
    expect(session.transport).toBe(transport);

    const pending = client.request('slow', null, { timeout: 10_000 });
    const outcome = pending.then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    await waitUntil(() => asked === 1, 5000, 'the request to reach the handler');
    expect(client.pendingTimers).toBeGreaterThan(0); // liveness, request timeout, ack or poll timers were running

    client.close();
    expect(client.state).toBe('closed');
    expect(client.pendingTimers).toBe(0);
    expect(await outcome).toBe('closed');
    expect(of('close')).toHaveLength(1);
    expect(client.transport).toBeNull();

    await waitUntil(() => session.transport === null, 3000, () => `the server to detach the connection (still on ${session.transport})`);
    await waitUntil(
      () => h.inFlight().requests === 0 && h.inFlight().upgraded === 0,
      3000,
      () => `no request or socket of the client left open on the server (${JSON.stringify(h.inFlight())})`,
    );
    // And nothing comes back later: no reconnect, no poll, no POST.
    const seen = h.received();
    await sleep(400);
    expect(h.received()).toBe(seen);
    expect(client.pendingTimers).toBe(0);
    expect(h.sessions).toHaveLength(1);
  });
});
