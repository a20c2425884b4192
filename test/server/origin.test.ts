import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, poll, post, qs, SseClient, startServer, WsClient } from './helpers';

afterEach(closeAll);

const wsUrl = (base: string): string => `${base.replace('http', 'ws')}/ws?${qs({ v: 1 })}`;
const evil = { Origin: 'https://evil.example' };

describe('origin checks', () => {
  it('refuses a foreign origin with origin_rejected on every transport, naming the origin and the option', async () => {
    let authCalls = 0;
    const s = await startServer({ authenticate: () => (authCalls++, true) });

    const p = await poll(s.base, { v: 1 }, { headers: evil });
    expect(p.status).toBe(403);
    expect(p.frames).toEqual([{ t: 'error', code: 'origin_rejected', status: 403, message: expect.stringContaining('https://evil.example') }]);
    expect(p.frames[0]).toMatchObject({ message: expect.stringContaining('cors.origins') });
    // Readable by the refused page, so its client can say why; nothing else is in it.
    expect(p.headers.get('access-control-allow-origin')).toBe('https://evil.example');

    const up = await post(s.base, { sid: 'a', secret: 'b', cid: 'c' }, [], evil);
    expect(up.status).toBe(403);
    expect(up.frames[0]).toMatchObject({ code: 'origin_rejected' });

    // SSE: in-band, as browsers hide a failed EventSource's status.
    const sse = SseClient.open(s.base, {}, evil);
    expect((await sse.next()).frame).toMatchObject({ t: 'error', code: 'origin_rejected', status: 403 });
    await sse.ended;

    // WebSocket: the handshake completes only to carry the refusal: an error frame, then close 4403.
    const ws = new WsClient(wsUrl(s.base), evil);
    expect(await ws.frames.next()).toMatchObject({ t: 'error', code: 'origin_rejected', status: 403 });
    expect(await ws.closed).toEqual({ code: 4403, reason: 'origin_rejected' });
    expect(ws.frames.all.map((f) => f.t)).toEqual(['error']);

    // Cross-site WebSocket hijacking stays impossible: no session, and the credential was never even looked at.
    expect(s.rt.sessions).toBe(0);
    expect(authCalls).toBe(0);
  });

  it('answers a refused preflight without CORS headers, so a foreign page cannot send custom headers', async () => {
    const s = await startServer();
    const pre = await fetch(`${s.base}/poll?v=1`, {
      method: 'OPTIONS',
      headers: { ...evil, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-forwarded-host' },
    });
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('lets a refused page\'s preflight for the protocol\'s own headers through, so the request behind it is refused readably', async () => {
    const s = await startServer({ cors: { origins: ['https://app.example'], credentials: true } });
    const pre = await fetch(`${s.base}/sse?v=1`, {
      method: 'OPTIONS',
      headers: { ...evil, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-realtime-join,authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(evil.Origin);
    // Readable, never with credentials (the allowed origins' credentials setting is not theirs).
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    // The request itself: origin_rejected, readable (the client reports it and stops), and no session.
    const r = await poll(s.base, { v: 1 }, { headers: { ...evil, 'X-Realtime-Join': 'Jk9aQ2xpZW50LXJhY2U' } });
    expect(r.status).toBe(403);
    expect(r.headers.get('access-control-allow-origin')).toBe(evil.Origin);
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    expect(r.frames[0]).toMatchObject({ code: 'origin_rejected' });
    expect(s.rt.sessions).toBe(0);
    // One foreign header among them and the preflight is refused as before.
    const mixed = await fetch(`${s.base}/sse?v=1`, {
      method: 'OPTIONS',
      headers: { ...evil, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-realtime-join,x-forwarded-host' },
    });
    expect(mixed.status).toBe(403);
  });

  it('allows same-origin (Host), header-less and Sec-Fetch-Site: same-origin requests', async () => {
    const s = await startServer();
    const same = await poll(s.base, { v: 1 }, { headers: { Origin: `http://127.0.0.1:${s.port}` } });
    expect(same.status).toBe(200);
    expect(same.headers.get('access-control-allow-origin')).toBe(`http://127.0.0.1:${s.port}`);
    await new WsClient(wsUrl(s.base), { Origin: `http://127.0.0.1:${s.port}` }).opened;
    expect((await poll(s.base, { v: 1 })).status).toBe(200);
    // A proxy replaced Host (here: the page's origin is not this server's): the browser's own same-origin mark is
    // what shows the page is ours.
    const proxied = { Origin: 'https://app.example', 'Sec-Fetch-Site': 'same-origin' };
    expect((await poll(s.base, { v: 1 }, { headers: proxied })).status).toBe(200);
    await new WsClient(wsUrl(s.base), proxied).opened;
    // ... and only `same-origin` is: a same-site or cross-site page is still checked.
    for (const site of ['same-site', 'cross-site', 'none']) {
      const r = await poll(s.base, { v: 1 }, { headers: { ...proxied, 'Sec-Fetch-Site': site } });
      expect(r.frames[0], site).toMatchObject({ code: 'origin_rejected' });
    }
  });

  it('allows listed origins with CORS headers and answers their preflights', async () => {
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
    await new WsClient(wsUrl(s.base), { Origin: 'https://app.example' }).opened;
    expect((await poll(s.base, { v: 1 }, { headers: { Origin: 'https://other.example' } })).frames[0]).toMatchObject({ code: 'origin_rejected' });
  });

  it('behind TLS termination: believes X-Forwarded-Proto/Host only from a trusted proxy, and says so when it does not', async () => {
    const tls = { Origin: 'https://app.example', 'X-Forwarded-Host': 'app.example', 'X-Forwarded-Proto': 'https' };
    const untrusted = await startServer();
    const refused = await poll(untrusted.base, { v: 1 }, { headers: tls });
    expect(refused.frames[0]).toMatchObject({ code: 'origin_rejected', message: expect.stringContaining('trustProxy') });

    const trusted = await startServer({ trustProxy: ['loopback'] });
    expect((await poll(trusted.base, { v: 1 }, { headers: tls })).status).toBe(200);
    expect((await poll(trusted.base, { v: 1 }, { headers: { Origin: 'https://app.example', Forwarded: 'for=203.0.113.9;proto=https;host=app.example' } })).status).toBe(200);
    await new WsClient(wsUrl(trusted.base), tls).opened;
    // A trusted proxy does not make a foreign page same-origin.
    const foreign = await poll(trusted.base, { v: 1 }, { headers: { ...tls, ...evil } });
    expect(foreign.frames[0]).toMatchObject({ code: 'origin_rejected' });
    expect(foreign.frames[0]).not.toMatchObject({ message: expect.stringContaining('trustProxy') });
    const ws = new WsClient(wsUrl(trusted.base), { ...tls, ...evil });
    expect((await ws.closed).code).toBe(4403);
  });

  it('logs one warning per refused origin, not one per request', async () => {
    const s = await startServer();
    for (let i = 0; i < 5; i++) await poll(s.base, { v: 1 }, { headers: evil });
    const ws = new WsClient(wsUrl(s.base), evil);
    await ws.closed;
    await poll(s.base, { v: 1 }, { headers: { Origin: 'https://other.example' } });
    const origins = s.logger.warnings.map((w) => (w[1] as { origin?: string }).origin);
    expect(origins).toEqual(['https://evil.example', 'https://other.example']);
    expect(String(s.logger.warnings[0]![0])).toContain('origin_rejected');
  });
});

describe('client address behind proxies (maxSessionsPerClient)', () => {
  const handshake = (base: string, forwardedFor: string) => poll(base, { v: 1 }, { headers: { 'X-Forwarded-For': forwardedFor } });

  it('without trustProxy, forged X-Forwarded-For headers change nothing', async () => {
    const s = await startServer({ maxSessionsPerClient: 3 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await handshake(s.base, `198.51.100.${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('with trustProxy, each forwarded client has its own limit', async () => {
    const s = await startServer({ maxSessionsPerClient: 2, trustProxy: ['127.0.0.1', '::1'] });
    const statuses = [];
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.1', '198.51.100.2', '198.51.100.1']) {
      statuses.push((await handshake(s.base, client)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    // The address is the first untrusted hop: a client cannot forge its way past the proxy's own entry.
    expect((await handshake(s.base, '198.51.100.7, 198.51.100.1')).status).toBe(429);
  });
});
