import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, poll, post, SseClient, startServer, WsClient } from './helpers';

afterEach(closeAll);

describe('authenticate hook', () => {
  const authenticate = (req: import('node:http').IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = url.searchParams.get('access_token') ?? req.headers.authorization?.replace(/^Bearer /, '');
    if (token === 'throw') throw new Error('broken');
    return token === 'good' ? { user: 'ann' } : false;
  };

  it('answers 401 on polls and POSTs without a valid credential', async () => {
    const s = await startServer({ authenticate });
    const p = await poll(s.base, { v: 1 });
    expect(p.status).toBe(401);
    expect(p.frames).toMatchObject([{ t: 'error', code: 'unauthorized', status: 401 }]);
    expect((await poll(s.base, { v: 1, access_token: 'throw' })).status).toBe(401);
    expect((await post(s.base, { sid: 'a', secret: 'b', cid: 'c' }, [], { Authorization: 'Bearer bad' })).status).toBe(401);
    expect((await poll(s.base, { v: 1 }, { headers: { Authorization: 'Bearer good' } })).status).toBe(200);
  });

  it('reports unauthorized in-band on SSE and WebSocket (close 4401)', async () => {
    const s = await startServer({ authenticate: async (req) => authenticate(req) });
    const sse = SseClient.open(s.base);
    expect((await sse.next()).frame).toMatchObject({ t: 'error', code: 'unauthorized', status: 401 });
    await sse.ended;
    const ws = await WsClient.open(s.base);
    expect(await ws.frames.next()).toMatchObject({ t: 'error', code: 'unauthorized', status: 401 });
    expect((await ws.closed).code).toBe(4401);
    expect(s.rt.sessions).toBe(0);
  });

  it('keeps what authenticate returned as session.auth', async () => {
    const s = await startServer({ authenticate });
    const auths: unknown[] = [];
    s.rt.on('connection', (session) => auths.push(session.auth));
    const ws = await WsClient.open(s.base, { access_token: 'good' });
    await ws.welcome();
    expect(auths).toEqual([{ user: 'ann' }]);
  });
});
