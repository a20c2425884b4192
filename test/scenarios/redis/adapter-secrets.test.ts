// Secret rotation with the Redis adapter, two server instances in this process on a real redis-server: a session
// restored on another node knows the current secret and the previous one, requests forwarded to the holder are
// judged as the holder would judge them, and nodes racing to resume one session never leave the client a dead secret.
import { describe, expect, it } from 'vitest';
import { HEADERS } from '../../../src/protocol/carriers';
import type { WelcomeFrame } from '../../../src/protocol/frames';
import { redisAdapter } from '../../../src/server/redis';
import { poll, post, startServer, WsClient, type TestServer } from '../../server/helpers';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();

async function node(): Promise<TestServer> {
  // Polls are held up to a heartbeat: a short one keeps the tests that poll quick.
  return startServer({ adapter: await redisAdapter({ url: redis.url }), sessionGraceMs: 20_000, heartbeatMs: 200 });
}

/** Resumes over WebSocket; the welcome, or null when the server closed the socket without one. */
async function resume(s: TestServer, sid: string, secret: string): Promise<WelcomeFrame | null> {
  const c = new WsClient(`${s.base.replace(/^http/, 'ws')}/ws?v=1&sid=${sid}&last=0&secret=${secret}`);
  const first = await Promise.race([c.welcome().catch(() => null), c.closed.then(() => null)]);
  c.close();
  await c.closed;
  return first;
}

const stored = async (sid: string, field: string): Promise<unknown> => redis.admin.sendCommand(['HGET', `rf:{${sid}}:state`, field]);

describe('secret rotation across nodes', () => {
  it('a session restored on another node takes its previous secret once, rotating nothing, and refuses it after the new one was used', async () => {
    const a = await node();
    const b = await node();
    const first = await WsClient.open(a.base);
    const w0 = await first.welcome();
    first.close();
    await first.closed;
    const w1 = (await resume(a, w0.sid, w0.secret))!;
    expect(w1).toMatchObject({ resumed: true });
    expect(w1.secret).not.toBe(w0.secret);
    await a.close(); // a deploy: A lets its sessions go to Redis

    // The welcome carrying w1's secret never reached the client: it resumes on B with the one it has.
    expect(await resume(b, w0.sid, w0.secret)).toMatchObject({ resumed: true, secret: w1.secret });
    const w2 = (await resume(b, w0.sid, w1.secret))!;
    expect(w2).toMatchObject({ resumed: true });
    expect(w2.secret).not.toBe(w1.secret);
    expect(await resume(b, w0.sid, w0.secret)).toMatchObject({ resumed: false, resumeFailed: 'bad_secret' });
    expect(await stored(w0.sid, 'secret')).toBe(w2.secret);
    expect(await stored(w0.sid, 'prev')).toBe(w1.secret);
  });

  it('a POST or poll forwarded to the holder is judged by it: the previous secret works until the new one is used, then nowhere', async () => {
    const a = await node();
    const b = await node();
    const w0 = (await poll(b.base, { v: 1 })).frames[0] as WelcomeFrame;
    const w1 = (await poll(b.base, { v: 1, sid: w0.sid, last: 0 }, { headers: { [HEADERS.secret]: w0.secret } })).frames[0] as WelcomeFrame;
    expect(w1).toMatchObject({ resumed: true });
    expect(w1.secret).not.toBe(w0.secret);
    const q = { v: 1, sid: w0.sid, cid: w1.cid };
    const send = (s: TestServer, secret: string) => post(s.base, q, [{ t: 'ack', id: 0 }], { [HEADERS.secret]: secret });
    const held = (s: TestServer, secret: string) => poll(s.base, { ...q, last: 0 }, { headers: { [HEADERS.secret]: secret } });

    expect((await send(a, w0.secret)).status).toBe(200); // forwarded to B, which still takes the previous one
    expect((await held(a, w0.secret)).status).toBe(200);
    expect((await send(a, w1.secret)).status).toBe(200); // the client used the new one, through A
    expect((await send(a, w0.secret)).status).toBe(410);
    expect((await held(a, w0.secret)).status).toBe(410);
    expect((await send(b, w0.secret)).status).toBe(410);
    expect((await held(a, w1.secret)).status).toBe(200);
    await expect.poll(() => stored(w0.sid, 'prev')).toBe('');
  });

  it('two nodes racing to resume one session with one secret leave every welcome that left with a secret that works', async () => {
    const a = await node();
    const b = await node();
    const first = await WsClient.open(a.base);
    const w0 = await first.welcome();
    first.close();
    await first.closed;
    const [fromA, fromB] = await Promise.all([resume(a, w0.sid, w0.secret), resume(b, w0.sid, w0.secret)]);
    const welcomes = [fromA, fromB].filter((w): w is WelcomeFrame => w !== null && w.resumed);
    expect(welcomes.length).toBeGreaterThan(0);
    for (const w of welcomes) expect(w.secret).not.toBe(w0.secret);
    // Whichever the client kept: it resumes (on either node), the others after it too.
    for (const [i, w] of welcomes.entries()) expect(await resume(i % 2 ? a : b, w0.sid, w.secret)).toMatchObject({ resumed: true });
  });
});
