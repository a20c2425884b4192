/**
 * realtime-fallback/server/redis: sessions written to Redis as they change, so they survive a restart or a deploy
 * of the server process (docs/design/scale-out.md). Needs the `redis` package (node-redis), an optional peer
 * dependency: `npm install redis`.
 */
import type { AdapterSettings, RealtimeAdapter } from '../adapter';
import type { RedisCommands } from './redis-commands';
import { RedisJournal } from './redis-journal';

export interface RedisAdapterOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`. The adapter connects its own client and closes it on `rt.close()`. */
  url?: string;
  /** Or a connected client of the app's (node-redis, or anything with `sendCommand(args)`); left open on close. */
  client?: RedisCommands;
  /** Prepended to every key. Default `rf:`. */
  keyPrefix?: string;
}

/** What the adapter needs of node-redis's client when it makes its own. */
interface OwnedClient extends RedisCommands {
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error' | 'ready' | 'reconnecting', listener: (arg?: unknown) => void): unknown;
}

/** Attempts at the first connection before `redisAdapter` gives up with a clear error. */
const FIRST_CONNECT_ATTEMPTS = 3;

/**
 * Connects to Redis and returns the adapter for `createRealtimeServer({ adapter })`. Rejects with a clear error when
 * the `redis` package is missing or Redis cannot be reached. Once connected, a lost connection is retried with
 * backoff (up to 3 s apart); meanwhile writes wait, so nothing becomes visible to clients that is not in Redis.
 */
export async function redisAdapter(options: RedisAdapterOptions): Promise<RealtimeAdapter> {
  const given = options.client;
  const owned = given ? undefined : await connect(options.url);
  const redis = (given ?? owned)!;
  let journal: RedisJournal | undefined;
  let logger: AdapterSettings['logger'] | undefined;
  let down = false;
  owned?.on('error', (err) => {
    if (down) return; // one line per outage, not one per reconnect attempt
    down = true;
    logger?.error('redis connection lost; session writes wait until it is back', { err });
  });
  owned?.on('ready', () => {
    if (down) logger?.warn('redis connection back', {});
    down = false;
  });
  return {
    open(settings) {
      logger = settings.logger;
      journal = new RedisJournal(redis, settings, options.keyPrefix);
      return journal;
    },
    async close() {
      await journal?.close();
      await owned?.close().catch(() => owned.destroy());
    },
  };
}

async function connect(url: string | undefined): Promise<OwnedClient> {
  if (!url) throw new TypeError('redisAdapter needs { url } or { client }');
  let createClient: (options: object) => OwnedClient;
  try {
    ({ createClient } = (await import('redis')) as unknown as { createClient: typeof createClient });
  } catch (cause) {
    throw new Error('realtime-fallback/server/redis needs the `redis` package (node-redis): npm install redis', { cause });
  }
  let connected = false;
  const client = createClient({
    url,
    socket: {
      // At start: a few quick tries, then a clear error. Later: retry for as long as it takes.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(100 * 2 ** retries, 3000) : retries >= FIRST_CONNECT_ATTEMPTS ? new Error(`redis at ${url} unreachable: ${cause.message}`) : 100,
    },
  });
  client.on('error', () => {}); // reported by the adapter once it has the server's logger
  try {
    await client.connect();
  } catch (cause) {
    client.destroy();
    throw new Error(`redisAdapter: cannot connect to ${url}`, { cause });
  }
  connected = true;
  return client;
}
