// node-redis clients for the Redis tests, and a wrapper that counts the commands (= round trips) a caller sends.
import { createClient } from 'redis';
import type { RedisCommands } from '../../../src/server/redis/redis-commands';

function newClient(url: string) {
  return createClient({ url, socket: { reconnectStrategy: () => 50 } });
}

export type TestRedisClient = ReturnType<typeof newClient>;

const clients = new Set<TestRedisClient>();

/** A connected client that retries every 50 ms when the server goes away (a restart test brings it back). */
export async function connectRedis(url: string): Promise<TestRedisClient> {
  const client = newClient(url);
  // Without a listener node-redis would throw connection errors (expected during a restart) as uncaught.
  client.on('error', () => {});
  await client.connect();
  clients.add(client);
  return client;
}

/** Closes every client `connectRedis` opened (afterAll). */
export async function closeRedisClients(): Promise<void> {
  const all = [...clients];
  clients.clear();
  await Promise.all(all.map((c) => (c.isOpen ? c.close() : undefined)));
}

/** Passes commands through and records the name of each. */
export interface CountingRedis extends RedisCommands {
  readonly commands: string[];
  reset(): void;
}

export function countingRedis(inner: RedisCommands): CountingRedis {
  const commands: string[] = [];
  return {
    commands,
    sendCommand(args) {
      commands.push(args[0] ?? '');
      return inner.sendCommand(args);
    },
    reset() {
      commands.length = 0;
    },
  };
}
