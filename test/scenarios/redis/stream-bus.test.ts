// StreamBus against a real redis-server: one server for this file, FLUSHALL before each test.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusMessage, BusTarget } from '../../../src/server/bus';
import { decodePosition } from '../../../src/server/redis/bus-position';
import { busCount, busStream } from '../../../src/server/redis/keys';
import { StreamBus } from '../../../src/server/redis/stream-bus';
import { closeRedisClients, connectRedis, countingRedis, type TestRedisClient } from './redis-client';
import { startRedisServer, stopAllRedisServers, type RedisServer } from './redis-server';

let server: RedisServer;
let client: TestRedisClient;
let readerConnection: TestRedisClient;
const errors: string[] = [];
const logger = { debug() {}, warn() {}, error: (m: string) => void errors.push(m) };
const options = (maxLength = 1000) => ({ stream: busStream('t:'), count: busCount('t:'), maxLength, logger });
const buses: StreamBus[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  client = await connectRedis(server.url);
  readerConnection = await connectRedis(server.url);
});

afterAll(async () => {
  await closeRedisClients();
  await stopAllRedisServers();
});

beforeEach(async () => {
  errors.length = 0;
  await client.sendCommand(['FLUSHALL']);
});

afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
});

async function open(maxLength?: number, blocking = false): Promise<StreamBus> {
  const bus = await StreamBus.open(client, blocking ? readerConnection : undefined, options(maxLength));
  buses.push(bus);
  return bus;
}

type Seen = { target: BusTarget; message: BusMessage; position: string | undefined };

/** Subscribes and resolves the first `n` deliveries. */
function collect(bus: StreamBus, n: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  return new Promise((resolve) => {
    bus.subscribe((target, message, position) => {
      seen.push({ target, message, position });
      if (seen.length === n) resolve(seen);
    });
  });
}

const settle = async (bus: StreamBus) => bus.settled();

describe('StreamBus', () => {
  it('delivers every event to every reading process, in publish order, with increasing positions', async () => {
    const a = await open();
    const b = await open(undefined, true);
    const seenA = collect(a, 30);
    const seenB = collect(b, 30);
    for (let i = 0; i < 30; i++) {
      a.publish(i % 3 === 0 ? { rooms: ['r1'], except: 'x' } : {}, { e: 'tick', d: { i } });
      if (i % 7 === 0) await new Promise((r) => setImmediate(r)); // several turns, several scripts
    }
    for (const seen of [await seenA, await seenB]) {
      expect(seen.map((s) => (s.message.d as { i: number }).i)).toEqual([...Array(30).keys()]);
      expect(seen[0]!.target).toEqual({ rooms: ['r1'], except: 'x' });
      expect(seen[1]!.target).toEqual({});
      const positions = seen.map((s) => s.position!);
      expect([...positions].sort()).toEqual(positions);
      expect(new Set(positions).size).toBe(30);
      expect(positions.map((p) => decodePosition(p)!.n)).toEqual([...Array(30).keys()].map((i) => i + 1));
    }
  });

  it('publishes the events of one turn as one script call', async () => {
    const counted = countingRedis(client);
    const bus = await StreamBus.open(counted, undefined, options());
    buses.push(bus);
    counted.reset();
    for (let i = 0; i < 50; i++) bus.publish({}, { e: 'tick', d: i });
    await settle(bus);
    expect(counted.commands).toEqual(['EVALSHA']);
    expect(Number(await client.sendCommand(['XLEN', busStream('t:')]))).toBe(50);
  });

  it('catches a session up from its position to where this process has read, and no further', async () => {
    const bus = await open();
    const seen = collect(bus, 10);
    for (let i = 0; i < 10; i++) bus.publish({}, { e: 'tick', d: i });
    const all = await seen;
    const caught: number[] = [];
    const outcome = await bus.catchUp(all[3]!.position!, (_t, m) => caught.push(m.d as number));
    expect(outcome).toBe('caught_up');
    expect(caught).toEqual([4, 5, 6, 7, 8, 9]);
    // A position at or past the reader's: nothing to hand over (the subscriber delivers what comes next).
    const none: unknown[] = [];
    expect(await bus.catchUp(all[9]!.position!, (_t, m) => none.push(m))).toBe('caught_up');
    expect(none).toEqual([]);
  });

  it('says gap when entries after the position were trimmed, never a silent loss', async () => {
    const bus = await open(5); // MAXLEN ~ 5: Redis trims whole nodes, so publish enough to lose the oldest
    let first: string | undefined;
    const last = new Promise<void>((resolve) =>
      bus.subscribe((_t, m, position) => {
        first ??= position;
        if (m.d === 399) resolve();
      }),
    );
    bus.publish({}, { e: 'tick', d: 0 });
    while (first === undefined) await new Promise((r) => setTimeout(r, 5));
    for (let i = 1; i < 400; i++) bus.publish({}, { e: 'tick', d: i });
    await last;
    expect(Number(await client.sendCommand(['XLEN', busStream('t:')]))).toBeLessThan(400);
    expect(await bus.catchUp(first, () => {})).toBe('gap');
    expect(await bus.catchUp('not a position', () => {})).toBe('gap');
  });

  it('reports lost entries (counts that jump) to its loss listeners, and reads on', async () => {
    const bus = await open();
    let losses = 0;
    bus.onLoss(() => losses++);
    const first = collect(bus, 3);
    for (let i = 0; i < 3; i++) bus.publish({}, { e: 'tick', d: i });
    await first;
    expect(losses).toBe(0);
    // What a Redis restart without persistence looks like to a reader: the count starts again from 1.
    await client.sendCommand(['DEL', busCount('t:')]);
    const after: number[] = [];
    const more = new Promise<void>((resolve) =>
      bus.subscribe((_t, m) => {
        after.push(m.d as number);
        if (after.length === 2) resolve();
      }),
    );
    bus.publish({}, { e: 'tick', d: 10 });
    bus.publish({}, { e: 'tick', d: 11 });
    await more;
    expect(after).toEqual([10, 11]);
    expect(losses).toBe(1);
    expect(errors.some((m) => m.includes('lost before this process read them'))).toBe(true);
  });

  it('passes over entries that are not its own, taking their position', async () => {
    const bus = await open();
    const seen = collect(bus, 1);
    await client.sendCommand(['XADD', busStream('t:'), '*', 'n', '1', 'm', 'not json']);
    await client.sendCommand(['SET', busCount('t:'), '1']);
    bus.publish({}, { e: 'ok' });
    const [one] = await seen;
    expect(one!.message).toEqual({ e: 'ok' });
    expect(decodePosition(one!.position!)!.n).toBe(2);
    expect(errors).toContain('unreadable redis bus entry passed over');
  });

  it('stops reading on close: a blocked read ends when its connection does', async () => {
    const dedicated = await connectRedis(server.url);
    const bus = await StreamBus.open(client, dedicated, options());
    bus.subscribe(() => {});
    await new Promise((r) => setTimeout(r, 50)); // the read is blocked now
    await bus.close();
    dedicated.destroy();
    await bus.stopped();
    expect(errors).toEqual([]);
  });
});
