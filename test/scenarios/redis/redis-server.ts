// A real redis-server (Debian's package) for a test file (demo/redis-server.mjs), stopped by stopAllRedisServers()
// on every way out. A missing binary fails the test: these tests never skip (.ci/run installs the package).
import { startRedisServer as start, type RedisServer } from '../../../demo/redis-server.mjs';

export type { RedisServer };

const running = new Set<RedisServer>();

/** Starts redis-server on a free loopback port and waits until it answers PING. */
export async function startRedisServer(): Promise<RedisServer> {
  const server = await start({ notFound: 'redis-server not found: apt-get install redis-server; .ci/run does' });
  running.add(server);
  return server;
}

/** Stops every server this file started (use in afterAll, or afterEach for per-test servers). */
export async function stopAllRedisServers(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((s) => s.stop()));
}

