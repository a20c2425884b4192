// Fan-out through the Redis bus between two server instances in this process, on a real redis-server: a session
// whose node let it go takes the broadcasts published meanwhile from the bus when another node restores it, each
// once and in order; if the bus no longer holds them, the session ends and its client resyncs rather than miss them.
import { describe, expect, it } from 'vitest';
import type { MessageFrame, ServerFrame, WelcomeFrame } from '../../../src/protocol/frames';
import { redisAdapter } from '../../../src/server/redis';
import { isType, startServer, WsClient, type TestServer } from '../../server/helpers';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();

async function node(busLength?: number): Promise<TestServer> {
  const adapter = await redisAdapter({ url: redis.url, ...(busLength ? { busLength } : {}) });
  const server = await startServer({ adapter, sessionGraceMs: 20_000 });
  server.rt.on('connection', (s) => s.join('room'));
  return server;
}

const isPub = (f: ServerFrame): f is MessageFrame => f.t === 'msg' && f.e === 'pub';

describe('the Redis bus across nodes', () => {
  it('a session restored on another node gets what was published while no node held it, once, in order', async () => {
    const a = await node();
    const b = await node();
    const first = await WsClient.open(a.base);
    const welcome = await first.frames.next(isType('welcome'));
    for (let i = 1; i <= 3; i++) b.rt.to('room').emit('pub', i);
    const heard: MessageFrame[] = [];
    for (let i = 1; i <= 3; i++) heard.push(await first.frames.next(isPub));
    await a.close(); // a deploy: A lets its sessions go to Redis
    await first.closed;
    for (let i = 4; i <= 8; i++) b.rt.to('room').emit('pub', i);
    await new Promise((r) => setTimeout(r, 100)); // B has read them (nobody there to take them)
    const again = await WsClient.open(b.base, { sid: welcome.sid, secret: welcome.secret, last: heard.at(-1)!.id });
    const resumed = (await again.frames.next(isType('welcome'))) as WelcomeFrame;
    expect(resumed.resumed).toBe(true);
    for (let i = 4; i <= 8; i++) heard.push(await again.frames.next(isPub));
    b.rt.to('room').emit('pub', 9);
    heard.push(await again.frames.next(isPub));
    expect(heard.map((f) => f.d)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(heard.map((f) => f.id)).toEqual(heard.map((_, i) => heard[0]!.id + i));
    await new Promise((r) => setTimeout(r, 100));
    expect(again.frames.all.filter(isPub)).toHaveLength(6); // nothing twice
    again.ws.close();
  });

  it('when the bus was trimmed past a session it ends, and its client is told to resync', async () => {
    const a = await node(5);
    const b = await node(5);
    const first = await WsClient.open(a.base);
    const welcome = await first.frames.next(isType('welcome'));
    await a.close();
    await first.closed;
    for (let i = 1; i <= 400; i++) b.rt.to('room').emit('pub', i); // MAXLEN ~ 5 drops whole nodes of 100 entries
    await new Promise((r) => setTimeout(r, 200));
    expect(Number(await redis.admin.sendCommand(['XLEN', 'rf:bus']))).toBeLessThan(400);
    const again = await WsClient.open(b.base, { sid: welcome.sid, secret: welcome.secret, last: 0 });
    const answer = (await again.frames.next(isType('welcome'))) as WelcomeFrame;
    expect(answer.resumed).toBe(false);
    expect(answer.resumeFailed).toBe('expired');
    expect(b.logger.errors.some(([m]) => String(m).includes('gone from the bus'))).toBe(true);
    again.ws.close();
  });
});
