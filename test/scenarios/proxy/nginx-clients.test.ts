/**
 * Many users behind one proxy: every request reaches the server from nginx's address, so `maxSessionsPerClient`
 * must count the forwarded client, and only when the proxy is trusted. The "users" here are handshake polls that
 * arrive at nginx with an `X-Forwarded-For` from a load balancer in front of it; nginx appends its own peer
 * (`$proxy_add_x_forwarded_for`), as the recommended config does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startApp, type App } from './harness';
import { startNginx } from './nginx';

const apps: App[] = [];
afterEach(async () => {
  await cleanup(apps.splice(0));
});

/** One handshake poll per client, each from its own forwarded address, a few at a time; returns the statuses. */
async function handshakes(origin: string, count: number): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  const one = async (i: number): Promise<void> => {
    const res = await fetch(`${origin}/realtime/poll?v=1`, { headers: { 'X-Forwarded-For': `198.51.${100 + (i >> 8)}.${i & 255}` } });
    await res.arrayBuffer();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  };
  for (let i = 0; i < count; i += 10) await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, k) => one(i + k)));
  return statuses;
}

describe('150 clients behind nginx (maxSessionsPerClient 100, the default)', () => {
  it('with trustProxy, all are accepted: each counts as its own forwarded address', async () => {
    const a = await startApp({ trustProxy: ['loopback'] });
    apps.push(a);
    const nginx = await startNginx({ upstreamPort: a.port, config: 'recommended' });
    expect(await handshakes(nginx.origin, 150)).toEqual({ 200: 150 });
    expect((await a.stats()).sessions).toBe(150);
  }, 60_000);

  it('without trustProxy, forged X-Forwarded-For headers change nothing: the proxy is one client', async () => {
    const a = await startApp();
    apps.push(a);
    const nginx = await startNginx({ upstreamPort: a.port, config: 'recommended' });
    expect(await handshakes(nginx.origin, 150)).toEqual({ 200: 100, 429: 50 });
    expect((await a.stats()).sessions).toBe(100);
  }, 60_000);
});
