/**
 * Every server entry point for app data (session.emit, rt.emit, to(room).emit, toSession().emit, session.broadcast,
 * replies) names the place JSON cannot carry (`unencodable`, nothing sent, no id used), and in development warns on
 * the console of data JSON would change, once per event and place.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { RealtimeServerError, type Session } from '../../src/server';
import { closeAll, isType, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

let warn: MockInstance<(...args: unknown[]) => void>;
beforeEach(() => void (warn = vi.spyOn(console, 'warn').mockImplementation(() => {})));
afterEach(() => warn.mockRestore());
const warnings = (): string[] => warn.mock.calls.map((c) => String(c[0]));

function thrown(f: () => void): RealtimeServerError {
  try {
    f();
  } catch (error) {
    if (error instanceof RealtimeServerError) return error;
    throw error;
  }
  throw new Error('nothing thrown');
}

async function connected(): Promise<{ s: Awaited<ReturnType<typeof startServer>>; session: Session; c: WsClient }> {
  const s = await startServer();
  const sessions: Session[] = [];
  s.rt.on('connection', (session) => {
    session.join('room');
    sessions.push(session);
  });
  const c = await WsClient.open(s.base);
  await c.welcome();
  await waitFor(() => sessions.length === 1);
  return { s, session: sessions[0]!, c };
}

describe('data JSON cannot carry: unencodable names the place', () => {
  it('on every emit entry point; nothing is sent and no id is used', async () => {
    const { s, session, c } = await connected();
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.again = [cyclic];
    const sends: [string, () => void, string][] = [
      ['session.emit', () => session.emit('e', { items: [{}, { at: 1n }] }), 'payload.items[1].at is a BigInt'],
      ['rt.emit', () => s.rt.emit('e', { n: 1n }), 'payload.n is a BigInt'],
      ['rt.to(room).emit', () => s.rt.to('room').emit('e', cyclic), 'payload.again[0] refers back to payload (a cycle)'],
      ['rt.toSession().emit', () => s.rt.toSession(session.id).emit('e', [[2n]]), 'payload[0][0] is a BigInt'],
      ['session.broadcast.emit', () => session.broadcast.emit('e', { deep: { n: 3n } }), 'payload.deep.n is a BigInt'],
      ['session.to(room).emit', () => session.to('room').emit('e', { n: 4n }), 'payload.n is a BigInt'],
    ];
    for (const [what, send, place] of sends) {
      const error = thrown(send);
      expect(error.code, what).toBe('unencodable');
      expect(error.message, what).toContain(`cannot be encoded as JSON: ${place}`);
      expect(error.cause, what).toBeInstanceOf(TypeError);
    }
    session.emit('ok', 1);
    expect(await c.frames.next(isType('msg'))).toMatchObject({ id: 1, e: 'ok' });
  });

  it('a reply: the request fails for its client and the handler hears where', async () => {
    const { session, c } = await connected();
    const thrownToHandler: unknown[] = [];
    session.on('ask', (_d, reply) => {
      try {
        reply({ total: 10n });
      } catch (error) {
        thrownToHandler.push(error);
      }
    });
    c.send({ t: 'req', seq: 1, e: 'ask' });
    const reply = await c.frames.next(isType('reply'));
    expect(reply.err).toMatchObject({ code: 'server_error', message: expect.stringContaining('payload.total is a BigInt') });
    expect(thrownToHandler).toEqual([expect.objectContaining({ code: 'unencodable', message: expect.stringContaining('the reply cannot be encoded as JSON: payload.total is a BigInt') })]);
  });
});

describe('data JSON would change: development warnings', () => {
  it('session.emit, broadcasts and replies warn naming the place and what JSON sends, once per event and place', async () => {
    const { s, session, c } = await connected();
    session.on('ask', (_d, reply) => reply({ at: new Date(0), tags: new Set(['a']) }));
    session.emit('s-emit', { items: [{ at: new Map() }, { at: new Map() }] });
    session.emit('s-emit', { items: [{ at: new Map() }] });
    s.rt.emit('rt-emit', { ratio: NaN });
    s.rt.to('room').emit('room-emit', [() => 1]);
    s.rt.toSession(session.id).emit('one-emit', { handler: () => 1, gone: undefined });
    c.send({ t: 'req', seq: 1, e: 'ask' });
    expect(await c.frames.next(isType('reply'))).toMatchObject({ re: 1, d: { at: '1970-01-01T00:00:00.000Z', tags: {} } });
    expect(warnings()).toEqual([
      'realtime-fallback/server: emit "s-emit": payload.items[0].at is a Map: JSON sends {} (its entries are lost: convert it, e.g. Object.fromEntries(map) or [...set])',
      'realtime-fallback/server: emit "rt-emit": payload.ratio is NaN: JSON sends null',
      'realtime-fallback/server: emit "room-emit": payload[0] is a function: JSON sends null',
      'realtime-fallback/server: emit "one-emit": payload.handler is a function: JSON sends nothing (the field is left out)',
      'realtime-fallback/server: reply to "ask": payload.tags is a Set: JSON sends {} (its entries are lost: convert it, e.g. Object.fromEntries(map) or [...set])',
    ]);
  });

  it('no warning with NODE_ENV=production', async () => {
    const { session } = await connected();
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      session.emit('prod-emit', { m: new Map() });
    } finally {
      process.env.NODE_ENV = saved;
    }
    expect(warnings()).toEqual([]);
  });
});
