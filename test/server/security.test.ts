import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, poll, post, SseClient, startServer, WsClient, qs } from './helpers';

afterEach(closeAll);

describe('origin checks', () => {
  it('refuses cross-origin HTTP requests with 403 and WebSocket upgrades with HTTP 403', async () => {
    const s = await startServer();
    const evil = { Origin: 'https://evil.example' };
    expect((await poll(s.base, { v: 1 }, { headers: evil })).status).toBe(403);
    expect((await post(s.base, { sid: 'a', secret: 'b', cid: 'c' }, [], evil)).status).toBe(403);
    const sse = SseClient.open(s.base, {}, evil);
    await sse.ready;
    expect(sse.status).toBe(403);
    const ws = new WsClient(`${s.base.replace('http', 'ws')}/ws?${qs({ v: 1 })}`, evil);
    await expect(ws.opened).rejects.toThrow(/403/);
    expect(s.rt.sessions).toBe(0);
  });

  it('allows same-origin and header-less requests', async () => {
    const s = await startServer();
    const same = await poll(s.base, { v: 1 }, { headers: { Origin: `http://127.0.0.1:${s.port}` } });
    expect(same.status).toBe(200);
    expect(same.headers.get('access-control-allow-origin')).toBe(`http://127.0.0.1:${s.port}`);
    const ws = new WsClient(`${s.base.replace('http', 'ws')}/ws?${qs({ v: 1 })}`, { Origin: `http://127.0.0.1:${s.port}` });
    await ws.opened;
    expect((await poll(s.base, { v: 1 })).status).toBe(200);
  });

  it('allows listed origins with CORS headers and answers preflights', async () => {
    const s = await startServer({ cors: { origins: ['https://app.example'], credentials: true } });
    const ok = await poll(s.base, { v: 1 }, { headers: { Origin: 'https://app.example' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const pre = await fetch(`${s.base}/send?sid=x`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    const ws = new WsClient(`${s.base.replace('http', 'ws')}/ws?${qs({ v: 1 })}`, { Origin: 'https://app.example' });
    await ws.opened;
    expect((await poll(s.base, { v: 1 }, { headers: { Origin: 'https://other.example' } })).status).toBe(403);
  });
});

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
