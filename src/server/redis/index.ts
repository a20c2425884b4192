/**
 * realtime-fallback/server/redis: sessions written to Redis as they change, so they survive a restart or a deploy
 * of the server process (docs/design/scale-out.md). Needs the `redis` package (node-redis), an optional peer
 * dependency: `npm install redis`.
 */
import { randomBytes } from 'node:crypto';
import type { AdapterSettings, RealtimeAdapter } from '../adapter';
import type { RedisCommands } from './redis-commands';
import { busCount, busStream } from './keys';
import { allScripts } from './all-scripts';
import { StreamBus } from './stream-bus';
import { RedisJournal } from './redis-journal';
import type { NodeLink, NodeMessage } from './node-link';
import { SessionLog } from './session-log';
import { Forwarder } from './forwarder';

export interface RedisAdapterOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`. The adapter connects its own client and closes it on `rt.close()`. */
  url?: string;
  /**
   * Or a connected node-redis client of the app's (left open on close). Its `duplicate()` makes the connection this
   * process listens on for the others; a client without one serves a single process only.
   */
  client?: RedisCommands & { duplicate?(): OwnedClient };
  /** Prepended to every key. Default `rf:`. */
  keyPrefix?: string;
  /**
   * Fanned-out events (`rt.emit`, `rt.to(...)`, `session.broadcast`) kept in the bus stream, at least. A session
   * restored after its node died reads the ones it missed from there; if they were trimmed it resyncs. Cover the
   * events of 1.5 × `sessionGraceMs` (nodes record each held session's position every grace / 2). Default 100 000.
   */
  busLength?: number;
}

/** What the adapter needs of node-redis's client when it makes its own. */
interface OwnedClient extends RedisCommands {
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error' | 'ready' | 'reconnecting', listener: (arg?: unknown) => void): unknown;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  duplicate(): OwnedClient;
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
  const prefix = options.keyPrefix ?? 'rf:';
  const busLength = options.busLength ?? 100_000;
  if (!Number.isSafeInteger(busLength) || busLength < 1) throw new RangeError(`busLength must be a positive integer: ${busLength}`);
  const nodeId = randomBytes(9).toString('base64url');
  const channel = (node: string): string => `${prefix}node:${node}`;
  // The connection this process listens on: other processes tell it to let a session go or to drain an inbox.
  const listener = owned ? owned.duplicate() : given?.duplicate?.();
  let onMessage: (m: NodeMessage) => void = () => {};
  if (listener) {
    listener.on('error', () => {});
    await listener.connect();
    await listener.subscribe(channel(nodeId), (text: string) => {
      try {
        onMessage(JSON.parse(text) as NodeMessage);
      } catch {
        // not ours
      }
    });
  }
  // The server's logger arrives with `open`; until then there is nothing to report.
  const laterLogger: AdapterSettings['logger'] = {
    debug: (m, meta) => logger?.debug(m, meta),
    warn: (m, meta) => logger?.warn(m, meta),
    error: (m, meta) => logger?.error(m, meta),
  };
  // Blocking bus reads get a connection of their own (a blocked connection answers nothing else meanwhile).
  const reader = owned ? owned.duplicate() : given?.duplicate?.();
  if (reader) {
    reader.on('error', () => {});
    await reader.connect();
  }
  await Promise.all(allScripts.map((script) => script.load(redis)));
  const streamBus = await StreamBus.open(redis, reader, { stream: busStream(prefix), count: busCount(prefix), maxLength: busLength, logger: laterLogger });
  const link: NodeLink = {
    nodeId,
    async tell(node, message) {
      if (node === nodeId) {
        onMessage(message);
        return true;
      }
      try {
        return Number(await redis.sendCommand(['PUBLISH', channel(node), JSON.stringify(message)])) > 0;
      } catch (err) {
        logger?.warn('could not reach another node', { node, err });
        return false;
      }
    },
  };
  let journal: RedisJournal | undefined;
  let forwarder: Forwarder | undefined;
  /** Polls other nodes forwarded to us and still held, by `from:id`, to abort when their client goes away. */
  const heldPolls = new Map<string, () => void>();
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
    open(settings, events) {
      logger = settings.logger;
      const written = (journal = new RedisJournal(redis, settings, link, prefix));
      streamBus.paceBy(() => written.settled());
      const log = new SessionLog(redis, { keyPrefix: prefix });
      const fwd = (forwarder = new Forwarder(log, link, settings.heartbeatMs + 5000));
      onMessage = (m) => {
        switch (m.t) {
          case 'ping':
            return;
          case 'release':
            events.release(m.sid, m.cid);
            if (m.from !== undefined && m.id !== undefined) {
              const { from, id } = m;
              void written.marksWritten(m.sid).then(() => link.tell(from, { t: 'released', id }));
            }
            return;
          case 'released':
            return written.released(m.id);
          case 'inbox':
            return events.inbox(m.sid);
          case 'sent':
            return fwd.answered(m.id, m.n);
          case 'polled':
            return fwd.answered(m.id, m.reply);
          case 'send':
            return void events.upstream(m.sid, m.secret, m.cid, m.frames).then(
              (n) => void link.tell(m.from, { t: 'sent', id: m.id, n }),
              () => void link.tell(m.from, { t: 'sent', id: m.id, n: null }),
            );
          case 'poll': {
            const key = `${m.from}:${m.id}`;
            const abort = events.poll(m.sid, m.secret, m.cid, m.last ?? undefined, (reply) => {
              heldPolls.delete(key);
              void link.tell(m.from, { t: 'polled', id: m.id, reply });
            });
            if (!heldPolls.has(key) && abort) heldPolls.set(key, abort);
            return;
          }
          case 'unpoll':
            heldPolls.get(`${m.from}:${m.id}`)?.();
            heldPolls.delete(`${m.from}:${m.id}`);
            return;
        }
      };
      return {
        journal,
        bus: streamBus,
        forward: (sid, secret, cid, frames) => fwd.forward(sid, secret, cid, frames),
        forwardPoll: (sid, secret, cid, last, aborted) => fwd.forwardPoll(sid, secret, cid, last, aborted),
        forwardable: (sid, secret, cid) => fwd.forwardable(sid, secret, cid),
      };
    },
    async close() {
      onMessage = () => {};
      forwarder?.close();
      for (const abort of heldPolls.values()) abort();
      heldPolls.clear();
      await streamBus.close();
      await journal?.close();
      reader?.destroy(); // ends the blocked read at once; it only ever reads
      await streamBus.stopped();
      if (listener) await listener.close().catch(() => listener.destroy());
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
