// One real redis-server per test file, flushed before each test; the test servers a test started are closed after it.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { closeAll } from '../../server/helpers';
import { closeRedisClients, connectRedis, type TestRedisClient } from './redis-client';
import { startRedisServer, stopAllRedisServers, type RedisServer } from './redis-server';

/** Registers the file's hooks; `url` and `admin` are there once its tests run. */
export function useRedisPerFile(): { readonly url: string; readonly admin: TestRedisClient } {
  let redis: RedisServer | undefined;
  let admin: TestRedisClient | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
    admin = await connectRedis(redis.url);
  });
  afterAll(async () => {
    await closeRedisClients();
    await stopAllRedisServers();
  });
  beforeEach(async () => {
    await admin!.sendCommand(['FLUSHALL']);
  });
  afterEach(closeAll);
  return {
    get url() {
      return redis!.url;
    },
    get admin() {
      return admin!;
    },
  };
}
