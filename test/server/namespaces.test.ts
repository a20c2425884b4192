/**
 * What an app sends goes where it says and nowhere else: a room name never addresses a session (session ids travel
 * in URLs, so they are not secret), and data JSON cannot carry is an error to the code that sent it, never a hole in
 * the client's message ids.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealtimeServerError, type Session } from '../../src/server';
import { closeAll, isType, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

describe('rooms and session ids are apart', () => {
  it('a client that joins a room named after another session id does not get what is sent to that session', async () => {
    const s = await startServer();
    const sessions: Session[] = [];
    s.rt.on('connection', (session) => {
      sessions.push(session);
      session.on('join', (room) => session.join(String(room)));
    });
    const victim = await WsClient.open(s.base);
    const vw = await victim.welcome();
    const attacker = await WsClient.open(s.base);
    await attacker.welcome();
    attacker.send({ t: 'emit', seq: 1, e: 'join', d: vw.sid });
    await waitFor(() => sessions[1]?.rooms.has(vw.sid) === true, 3000, 'the attacker in its room');

    s.rt.toSession(vw.sid).emit('private', 'for the victim');
    s.rt.to(vw.sid).emit('room', 'for the room of that name');
    s.rt.toSession(sessions[1]!.id).emit('marker', 'last');
    expect(await victim.frames.next(isType('msg'))).toMatchObject({ id: 1, e: 'private' });
    expect(await attacker.frames.next(isType('msg'))).toMatchObject({ id: 1, e: 'room' });
    expect(await attacker.frames.next(isType('msg'))).toMatchObject({ id: 2, e: 'marker' });
    expect(attacker.frames.all.filter(isType('msg')).map((f) => f.e)).toEqual(['room', 'marker']);
    expect(sessions[0]!.inRoom(vw.sid)).toBe(false);
  });

  it('a session addresses another by id, and its own broadcasts skip it', async () => {
    const s = await startServer();
    const sessions: Session[] = [];
    s.rt.on('connection', (session) => void sessions.push(session));
    const a = await WsClient.open(s.base);
    await a.welcome();
    const b = await WsClient.open(s.base);
    await b.welcome();
    await waitFor(() => sessions.length === 2);
    sessions[0]!.toSession(sessions[1]!.id).emit('to-b', 1);
    sessions[0]!.toSession(sessions[0]!.id).emit('to-self', 2); // except itself: nothing
    sessions[0]!.emit('done', 3);
    expect(await b.frames.next(isType('msg'))).toMatchObject({ e: 'to-b' });
    expect(await a.frames.next(isType('msg'))).toMatchObject({ id: 1, e: 'done' });
  });
});

describe('data JSON cannot carry', () => {
  const deep = (levels: number): unknown => {
    let v: unknown = 0;
    for (let i = 0; i < levels; i++) v = [v];
    return v;
  };

  it.each([
    ['a BigInt', () => 10n],
    ['nesting deeper than the stack', () => deep(200_000)],
  ])('a reply of %s fails the request for its client and throws to the handler; the next frame has the next id', async (_what, make) => {
    const s = await startServer();
    const thrown: unknown[] = [];
    s.rt.on('connection', (session) => {
      session.on('bad', (_d, reply) => {
        try {
          reply(make());
        } catch (err) {
          thrown.push(err);
        }
        session.emit('after', 'still numbered');
      });
    });
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.send({ t: 'req', seq: 1, e: 'bad' });
    const reply = await c.frames.next(isType('reply'));
    expect(reply).toMatchObject({ id: 1, re: 1, err: { code: 'server_error' } });
    expect(reply.err!.message).toMatch(/cannot be encoded/);
    expect(await c.frames.next(isType('msg'))).toMatchObject({ id: 2, e: 'after' });
    expect(thrown).toHaveLength(1);
    expect(thrown[0]).toBeInstanceOf(RealtimeServerError);
    expect((thrown[0] as RealtimeServerError).code).toBe('unencodable');
  });

  it('session.emit and rt.emit throw unencodable, use no id and reach no one', async () => {
    const s = await startServer();
    const sessions: Session[] = [];
    s.rt.on('connection', (session) => void sessions.push(session));
    const c = await WsClient.open(s.base);
    await c.welcome();
    await waitFor(() => sessions.length === 1);
    const code = (f: () => void): string | undefined => {
      try {
        f();
      } catch (err) {
        return err instanceof RealtimeServerError ? err.code : `other: ${String(err)}`;
      }
      return undefined;
    };
    expect(code(() => sessions[0]!.emit('x', { n: 1n }))).toBe('unencodable');
    expect(code(() => s.rt.emit('x', { n: 1n }))).toBe('unencodable');
    expect(code(() => s.rt.to('r').emit('x', deep(200_000)))).toBe('unencodable');
    sessions[0]!.emit('ok', 1);
    expect(await c.frames.next(isType('msg'))).toMatchObject({ id: 1, e: 'ok' });
  });
});
