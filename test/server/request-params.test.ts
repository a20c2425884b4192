/**
 * Where the server reads the protocol's parameters (docs/protocol.md, "Where parameters travel"): the resume secret
 * and the token from a WebSocket subprotocol, then headers, then the query (clients before 0.2); a token, wherever it
 * came, reaches `authenticate` as `Authorization: Bearer`.
 */
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/server';
import { HEADERS, offeredSubprotocols, WS_SUBPROTOCOL } from '../../src/protocol/carriers';
import { exposeToken, requestParams } from '../../src/server/request-params';
import { closeAll, isType, poll, startServer, WsClient } from './helpers';

afterEach(closeAll);

const fakeRequest = (url: string, headers: Record<string, string> = {}): IncomingMessage => ({ url, headers }) as unknown as IncomingMessage;

describe('requestParams', () => {
  it('reads the secret from a subprotocol before a header before the query', () => {
    const protocols = offeredSubprotocols({ secret: 'FROM-PROTOCOL' }).join(', ');
    const all = fakeRequest('/rt/ws?v=1&secret=FROM-QUERY', { 'sec-websocket-protocol': protocols, 'x-realtime-secret': 'FROM-HEADER' });
    expect(requestParams(all).secret).toBe('FROM-PROTOCOL');
    expect(requestParams(fakeRequest('/rt/poll?secret=FROM-QUERY', { 'x-realtime-secret': 'FROM-HEADER' })).secret).toBe('FROM-HEADER');
    expect(requestParams(fakeRequest('/rt/poll?secret=FROM-QUERY')).secret).toBe('FROM-QUERY');
    expect(requestParams(fakeRequest('/rt/poll')).secret).toBeUndefined();
  });

  it('reads last from its header before the query, and the token from a subprotocol before access_token', () => {
    expect(requestParams(fakeRequest('/rt/poll?last=3', { 'x-realtime-last': '7' })).last).toBe('7');
    expect(requestParams(fakeRequest('/rt/poll?last=3')).last).toBe('3');
    const protocols = offeredSubprotocols({ token: 'T-PROTOCOL' }).join(',');
    expect(requestParams(fakeRequest('/rt/ws?access_token=T-QUERY', { 'sec-websocket-protocol': protocols })).token).toBe('T-PROTOCOL');
    expect(requestParams(fakeRequest('/rt/ws?access_token=T-QUERY')).token).toBe('T-QUERY');
  });

  it('says why an unreadable parameters subprotocol is one', () => {
    const p = requestParams(fakeRequest('/rt/ws?v=1', { 'sec-websocket-protocol': `${WS_SUBPROTOCOL}, realtime-fallback.p.%%%` }));
    expect(p.malformed).toContain('not base64url');
  });

  it('exposeToken fills Authorization only when the request has none', () => {
    const bare = fakeRequest('/rt/poll?access_token=T1');
    exposeToken(bare, requestParams(bare));
    expect(bare.headers.authorization).toBe('Bearer T1');
    const own = fakeRequest('/rt/poll?access_token=T1', { authorization: 'Basic abc' });
    exposeToken(own, requestParams(own));
    expect(own.headers.authorization).toBe('Basic abc');
  });
});

describe('the reference server', () => {
  async function setup() {
    const seen: (string | undefined)[] = [];
    const sessions: Session[] = [];
    const s = await startServer({
      authenticate: (req: IncomingMessage) => {
        seen.push(req.headers.authorization);
        return true;
      },
    });
    s.rt.on('connection', (session) => void sessions.push(session));
    return { s, seen, sessions };
  }

  it('resumes a WebSocket session whose secret and token came in a subprotocol, and selects its own subprotocol', async () => {
    const { s, seen, sessions } = await setup();
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    sessions[0]!.emit('n', 1);
    await a.frames.next(isType('msg'));
    a.close();
    await a.closed;
    const b = await WsClient.open(s.base, { sid: w.sid, last: 0 }, offeredSubprotocols({ secret: w.secret, token: 'TOK' }));
    expect(b.ws.protocol).toBe(WS_SUBPROTOCOL);
    expect(await b.welcome()).toMatchObject({ resumed: true, sid: w.sid });
    expect((await b.frames.next(isType('msg'))).id).toBe(1);
    expect(seen).toEqual([undefined, 'Bearer TOK']);
    b.close();
  });

  it('answers an unreadable parameters subprotocol with bad_request, not a resume failure', async () => {
    const { s } = await setup();
    const c = await WsClient.open(s.base, {}, [WS_SUBPROTOCOL, 'realtime-fallback.p.bm9wZQ']);
    const error = await c.frames.next(isType('error'));
    expect(error).toMatchObject({ code: 'bad_request' });
    expect(error.message).toContain('not base64url JSON');
    expect((await c.closed).code).toBe(4400);
  });

  it('takes a poll’s secret and last from headers, which win over the query', async () => {
    const { s, sessions } = await setup();
    const hs = await poll(s.base, { v: 1 });
    const w = hs.frames[0]!;
    if (w.t !== 'welcome') throw new Error('no welcome');
    sessions[0]!.emit('n', 1);
    sessions[0]!.emit('n', 2);
    // A wrong secret in the query is overridden by the right one in the header.
    const first = await poll(s.base, { v: 1, sid: w.sid, cid: w.cid, secret: 'WRONG' }, { headers: { [HEADERS.secret]: w.secret } });
    expect(first.status).toBe(200);
    expect(first.frames.filter((f) => f.t === 'msg')).toHaveLength(2);
    const ack = poll(s.base, { v: 1, sid: w.sid, cid: w.cid, last: 0 }, { headers: { [HEADERS.secret]: w.secret, [HEADERS.last]: '2' } });
    sessions[0]!.emit('n', 3);
    expect((await ack).status).toBe(200);
    // A wrong secret in the header is refused, whatever the query says.
    const wrong = await poll(s.base, { v: 1, sid: w.sid, cid: w.cid, secret: w.secret }, { headers: { [HEADERS.secret]: 'WRONG' } });
    expect(wrong.status).toBe(410);
    // The header's last (2), not the query's (0), was the acknowledgement: frames 1 and 2 are gone from the replay.
    const resume = await poll(s.base, { v: 1, sid: w.sid, last: 0 }, { headers: { [HEADERS.secret]: w.secret } });
    expect(resume.frames[0]).toMatchObject({ t: 'welcome', resumed: false, resumeFailed: 'overrun' });
  });
});

describe('the join key: racing handshakes of one client share one session', () => {
  const JOIN = 'Jk9aQ2xpZW50LXJhY2Uta2V5';

  it('a second handshake with the key joins the session the first created, welcomed as new and replayed from the start', async () => {
    const s = await startServer();
    const sessions: Session[] = [];
    s.rt.on('connection', (session) => void sessions.push(session));
    const a = await WsClient.open(s.base, {}, offeredSubprotocols({ join: JOIN }));
    const w1 = await a.welcome();
    sessions[0]!.emit('n', 1);
    await a.frames.next(isType('msg'));
    const hs = await poll(s.base, { v: 1 }, { headers: { [HEADERS.join]: JOIN } });
    expect(hs.frames[0]).toMatchObject({ t: 'welcome', sid: w1.sid, secret: w1.secret, resumed: false, ack: 0 });
    expect(hs.frames.filter((f) => f.t === 'msg').map((f) => (f as { id: number }).id)).toEqual([1]);
    expect(sessions).toHaveLength(1);
    // The WebSocket it replaced hears so.
    expect(await a.frames.next(isType('close'))).toMatchObject({ code: 'replaced' });
  });

  it('another key, or none, creates its own session; a probe never resumes by key', async () => {
    const s = await startServer();
    const sessions: Session[] = [];
    s.rt.on('connection', (session) => void sessions.push(session));
    const a = await WsClient.open(s.base, {}, offeredSubprotocols({ join: JOIN }));
    await a.welcome();
    const b = await poll(s.base, { v: 1 }, { headers: { [HEADERS.join]: 'another-key-0123456789' } });
    const c = await poll(s.base, { v: 1 });
    expect(new Set([b.frames[0], c.frames[0]].map((f) => (f as { sid: string }).sid)).size).toBe(2);
    expect(sessions).toHaveLength(3);
    const probe = await WsClient.open(s.base, { sid: 'unknown', last: 0, probe: 1 }, offeredSubprotocols({ secret: 'x', join: JOIN }));
    expect(await probe.frames.next(isType('close'))).toMatchObject({ code: 'session_ended' });
    expect(sessions).toHaveLength(3);
  });

  it('a failed resume with the key joins the session a racing handshake created after the same failure', async () => {
    const s = await startServer();
    const first = await poll(s.base, { v: 1, sid: 'gone', last: 7 }, { headers: { [HEADERS.join]: JOIN, [HEADERS.secret]: 'x' } });
    const second = await poll(s.base, { v: 1, sid: 'gone', last: 7 }, { headers: { [HEADERS.join]: JOIN, [HEADERS.secret]: 'x' } });
    expect(first.frames[0]).toMatchObject({ t: 'welcome', resumed: false, resumeFailed: 'unknown_session' });
    expect(second.frames[0]).toMatchObject({ t: 'welcome', resumed: false, resumeFailed: 'unknown_session', sid: (first.frames[0] as { sid: string }).sid });
  });

  it('refuses a malformed key as bad_request', async () => {
    const s = await startServer();
    const answer = await poll(s.base, { v: 1 }, { headers: { [HEADERS.join]: 'short' } });
    expect(answer.status).toBe(400);
    expect(answer.frames[0]).toMatchObject({ code: 'bad_request' });
  });
});
