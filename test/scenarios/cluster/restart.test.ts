/**
 * One node on Redis, killed with SIGKILL mid-stream and started again on the same port, twice: every client, on
 * each transport, resumes the same session with no `resync`: server messages exactly once, no emit dropped (a frame
 * a kill caught before its handler was done runs again after the restart, flagged `redelivered`). Deploys drop nothing.
 * Real redis-server (no persistence), real processes, the SDK client in Node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportName } from '../../../src/protocol/frames';
import { startRedisServer, stopAllRedisServers, type RedisServer } from '../redis/redis-server';
import { checkEmits, received, sleep, startTraffic, until, watch, type Watched } from './clients';
import { killAllNodes, startNode, type Node, type Up } from './nodes';

afterEach(async () => {
  await killAllNodes();
  await stopAllRedisServers();
});

/** Redis, one node, and one client per transport, open; `restart()` starts the node again on its port. */
async function oneNode(): Promise<{ redis: RedisServer; ups: Up[]; node: Node; restart(): Promise<void>; clients: Watched[] }> {
  const redis = await startRedisServer();
  const ups: Up[] = [];
  const onUp = (u: Up): void => void ups.push(u);
  const rig = { redis, ups, node: await startNode(redis.url, onUp), clients: [] as Watched[], restart: async () => {} };
  rig.restart = async () => void (rig.node = await startNode(redis.url, onUp, rig.node.port));
  const url = `http://127.0.0.1:${rig.node.port}/realtime`;
  rig.clients = await Promise.all((['websocket', 'sse', 'polling'] as TransportName[]).map((t) => watch(url, t)));
  await until(() => rig.clients.every((c) => c.client.state === 'open'), 10_000, 'clients open');
  return rig;
}

describe('one node on Redis, killed and restarted', () => {
  it('twice mid-stream: every transport resumes its session, no resync, server messages exactly once, no emit dropped', async () => {
    const rig = await oneNode();
    const { ups, clients } = rig;
    const stopTraffic = startTraffic(clients);
    try {
      for (let kill = 0; kill < 2; kill++) {
        await sleep(1000);
        await rig.node.kill();
        await sleep(300);
        await rig.restart();
        const before = clients.map(received);
        await until(() => clients.every((c, i) => c.client.state === 'open' && received(c) > before[i]! + 10), 15_000, `traffic after restart ${kill + 1}`);
      }
      await sleep(500);
    } finally {
      stopTraffic();
    }
    await until(() => clients.every((c) => c.client.queued.messages === 0), 10_000, 'every emit acknowledged');

    for (const c of clients) {
      const epochs = [...c.ticks.entries()];
      const summary = epochs.map(([key, list]) => `${key.split(':')[0]}=${list.length}`).join(' ');
      console.log(`[redis restart] ${c.transport}: sessions ${c.sessions.size}, ticks per process ${summary}, ups ${c.accepted}`);
      // One session throughout, resumed each time: no resync.
      expect(c.sessions.size).toBe(1);
      expect(c.resyncs).toBe(0);
      // Server → client: within each process's run, ticks 1..k, once each and in order.
      expect(epochs.length).toBe(3);
      for (const [, list] of epochs) expect(list).toEqual(list.map((_, i) => i + 1));
      // Client → server: every emit handled, in order, once but for runs flagged `redelivered` (a frame a SIGKILL
      // caught before its handler was done runs again on the restarted node).
      const mine = ups.filter((u) => u.c === c.transport);
      expect(mine.every((u) => u.seq === u.n)).toBe(true);
      const counts = checkEmits(c, mine);
      console.log(`[redis restart] ${c.transport}: 0 dropped, ${counts.redelivered} redelivered (${counts.repeats} repeating a run)`);
    }
    for (const c of clients) c.client.close();
  }, 90_000);
});

describe('deploys and Redis trouble, one node', () => {
  it('three deploys in a row (close, exit, start): no resync, nothing lost or repeated', async () => {
    const rig = await oneNode();
    const { ups, clients } = rig;
    const stopTraffic = startTraffic(clients);
    try {
      for (let deploy = 0; deploy < 3; deploy++) {
        await sleep(600);
        await rig.node.stop();
        await rig.restart();
        const before = clients.map(received);
        await until(() => clients.every((c, i) => c.client.state === 'open' && received(c) > before[i]! + 10), 15_000, `traffic after deploy ${deploy + 1}`);
      }
    } finally {
      stopTraffic();
    }
    await until(() => clients.every((c) => c.client.queued.messages === 0), 10_000, 'every emit acknowledged');
    for (const c of clients) {
      console.log(`[redis deploys] ${c.transport}: ${received(c)} ticks over ${c.ticks.size} processes, ${c.accepted} ups`);
      expect(c.sessions.size).toBe(1);
      expect(c.resyncs).toBe(0);
      for (const [, list] of c.ticks) expect(list).toEqual(list.map((_, i) => i + 1));
      // A graceful close drops nothing.
      const counts = checkEmits(c, ups.filter((u) => u.c === c.transport));
      console.log(`[redis deploys] ${c.transport}: ${counts.redelivered} redelivered (${counts.repeats} repeating a run)`);
    }
    for (const c of clients) c.client.close();
  }, 90_000);

  it('Redis restarted empty mid-stream: each client is told (resync) and carries on; no gap without a resync, no emit lost', async () => {
    const { redis, ups, clients } = await oneNode();
    const stopTraffic = startTraffic(clients);
    try {
      await sleep(800);
      await redis.restart(); // no persistence: every session is gone from Redis
      await until(() => clients.every((c) => c.resyncs > 0 && c.client.state === 'open'), 15_000, 'every client resynced and open');
      const before = clients.map(received);
      await until(() => clients.every((c, i) => received(c) > before[i]! + 20), 10_000, 'traffic after the Redis restart');
    } finally {
      stopTraffic();
    }
    await until(() => clients.every((c) => c.client.queued.messages === 0), 10_000, 'every emit acknowledged');
    for (const c of clients) {
      console.log(`[redis restarted] ${c.transport}: sessions ${c.sessions.size}, resyncs ${c.resyncs}, ${received(c)} ticks, ${c.accepted} ups`);
      expect(c.resyncs).toBe(c.sessions.size - 1);
      expect(c.sessions.size).toBeGreaterThanOrEqual(2);
      // Each session's ticks are 1..k: the lost session's stop where it was lost, announced by the resync.
      for (const [, list] of c.ticks) expect(list).toEqual(list.map((_, i) => i + 1));
      // Emits not acknowledged when the session was lost are re-sent to the new one: none is lost.
      const got = new Set(ups.filter((u) => u.c === c.transport).map((u) => u.n));
      expect(Array.from({ length: c.accepted }, (_, i) => i + 1).filter((n) => !got.has(n))).toEqual([]);
    }
    for (const c of clients) c.client.close();
  }, 90_000);
});

describe('redisAdapter at start', () => {
  it('rejects with a clear error when Redis cannot be reached', async () => {
    const { redisAdapter } = await import('../../../src/server/redis');
    const started = Date.now();
    await expect(redisAdapter({ url: 'redis://127.0.0.1:1' })).rejects.toThrow(/cannot connect to redis:\/\/127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(redisAdapter({})).rejects.toThrow(/needs \{ url \} or \{ client \}/);
  });
});
