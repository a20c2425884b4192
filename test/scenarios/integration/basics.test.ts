/**
 * The SDK client against the real reference server, per forced transport: emits run their handler once,
 * requests get replies (and errors), broadcasts, rooms and per-session addressing reach exactly the sessions meant.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealtimeError } from '../../../src/client/errors';
import type { Session } from '../../../src/server';
import { cleanup, connectClient, startHarness, TRANSPORTS, waitUntil, whenOpen, type AnyClient, type Harness } from './harness';

afterEach(cleanup);

/** Handlers every session gets: echo, boom (throws), shout (broadcast), join/leave, count (records emits). */
function installApp(h: Harness): { received: Map<string, unknown[]> } {
  const received = new Map<string, unknown[]>();
  h.rt.on('connection', (s: Session) => {
    const got: unknown[] = [];
    received.set(s.id, got);
    s.on('count', (d) => void got.push(d));
    s.on('echo', (d, reply) => reply(d));
    s.on('boom', () => {
      throw new Error('handler exploded');
    });
    s.on('shout', (d, reply) => {
      s.broadcast.emit('shouted', d);
      reply(true);
    });
    s.on('join', (room, reply) => {
      s.join(room as string);
      reply(true);
    });
    s.on('leave', (room, reply) => {
      s.leave(room as string);
      reply(true);
    });
  });
  return { received };
}

/** Records the app events a client receives. */
function inbox(client: AnyClient, events: string[]): [string, unknown][] {
  const got: [string, unknown][] = [];
  for (const e of events) client.on(e, (d) => got.push([e, d]));
  return got;
}

/**
 * Every sequenced frame to a session before this call is delivered before its reply (ids are in order), so after
 * `barrier` a frame that was meant for the client has arrived, and one that has not arrived was never sent to it.
 */
const barrier = (client: AnyClient): Promise<unknown> => client.request('echo', 'barrier', { timeout: 5000 });

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('runs an emit handler once and acknowledges the emit', async () => {
    const h = await startHarness();
    const { received } = installApp(h);
    const { client } = await connectClient(h.base, { transports: [transport] });
    client.emit('count', { n: 1 });
    await whenOpen(client, transport);
    await waitUntil(() => client.queued.messages === 0, 5000, 'the emit to be acknowledged');
    await barrier(client); // a duplicate run would have happened before this round trip completed
    expect(received.get(client.sessionId!)).toEqual([{ n: 1 }]);
    expect(h.sessions).toHaveLength(1);
  });

  it('resolves a request with the reply and rejects with server_error when the handler throws', async () => {
    const h = await startHarness();
    installApp(h);
    const { client } = await connectClient(h.base, { transports: [transport] });
    await expect(client.request('echo', { x: [1, 'two'] })).resolves.toEqual({ x: [1, 'two'] });
    const failed = client.request('boom', null);
    await expect(failed).rejects.toBeInstanceOf(RealtimeError);
    await expect(failed).rejects.toMatchObject({ code: 'server_error', message: expect.stringContaining('handler exploded') });
    // The client keeps working after a failed request.
    await expect(client.request('echo', 2)).resolves.toBe(2);
    expect(h.logger.errors.length).toBeGreaterThan(0); // the server logged the throwing handler
  });

  it('session.broadcast.emit reaches the other clients, not the sender', async () => {
    const h = await startHarness();
    installApp(h);
    const a = (await connectClient(h.base, { transports: [transport] })).client;
    const b = (await connectClient(h.base, { transports: [transport] })).client;
    const c = (await connectClient(h.base, { transports: [transport] })).client;
    const [gotA, gotB, gotC] = [inbox(a, ['shouted']), inbox(b, ['shouted']), inbox(c, ['shouted'])];
    await Promise.all([whenOpen(a), whenOpen(b), whenOpen(c)]);
    await expect(a.request('shout', 'hi')).resolves.toBe(true);
    await Promise.all([barrier(a), barrier(b), barrier(c)]);
    expect(gotB).toEqual([['shouted', 'hi']]);
    expect(gotC).toEqual([['shouted', 'hi']]);
    expect(gotA).toEqual([]);
  });

  it('rt.to(room).emit reaches the room members only, and not after they leave', async () => {
    const h = await startHarness();
    installApp(h);
    const [a, b, c] = await Promise.all([0, 1, 2].map(async () => (await connectClient(h.base, { transports: [transport] })).client)) as [AnyClient, AnyClient, AnyClient];
    const [gotA, gotB, gotC] = [inbox(a, ['news']), inbox(b, ['news']), inbox(c, ['news'])];
    await Promise.all([a.request('join', 'lobby'), b.request('join', 'lobby')]);

    h.rt.to('lobby').emit('news', 1);
    await Promise.all([barrier(a), barrier(b), barrier(c)]);
    expect(gotA).toEqual([['news', 1]]);
    expect(gotB).toEqual([['news', 1]]);
    expect(gotC).toEqual([]);

    await a.request('leave', 'lobby');
    h.rt.to('lobby').emit('news', 2);
    await Promise.all([barrier(a), barrier(b), barrier(c)]);
    expect(gotA).toEqual([['news', 1]]);
    expect(gotB).toEqual([['news', 1], ['news', 2]]);
    expect(gotC).toEqual([]);
  });

  it('rt.toSession(session.id).emit reaches that one session', async () => {
    const h = await startHarness();
    installApp(h);
    const a = (await connectClient(h.base, { transports: [transport] })).client;
    const b = (await connectClient(h.base, { transports: [transport] })).client;
    const [gotA, gotB] = [inbox(a, ['direct']), inbox(b, ['direct'])];
    await Promise.all([whenOpen(a), whenOpen(b)]);
    expect(h.rt.session(a.sessionId!)).toBeDefined();
    h.rt.toSession(a.sessionId!).emit('direct', { to: 'a' });
    await Promise.all([barrier(a), barrier(b)]);
    expect(gotA).toEqual([['direct', { to: 'a' }]]);
    expect(gotB).toEqual([]);
    expect(a.sessionId).not.toBe(b.sessionId);
  });
});
