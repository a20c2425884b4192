/**
 * emit() and request() with data JSON cannot carry or would change: a BigInt or a cycle is an `invalid_argument`
 * naming the place (nothing queued); in development a Map, NaN, a function, ... is warned of on the console, naming
 * the place and what JSON sends, once per event name and place.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { RealtimeError } from '../../../src/client/errors';
import { rig, useMsw } from './harness';

useMsw();

let warn: MockInstance<(...args: unknown[]) => void>;
beforeEach(() => void (warn = vi.spyOn(console, 'warn').mockImplementation(() => {})));
afterEach(() => warn.mockRestore());
const warnings = (): string[] => warn.mock.calls.map((c) => String(c[0]));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('data JSON cannot carry', () => {
  it('emit of a BigInt deep inside: invalid_argument naming the place; nothing is queued', () => {
    const { client } = rig();
    const error = thrown(() => client.emit('say', { items: [{}, {}, {}, { at: 12n }] }));
    expect(error).toBeInstanceOf(RealtimeError);
    expect((error as RealtimeError).code).toBe('invalid_argument');
    expect((error as RealtimeError).message).toContain('payload.items[3].at is a BigInt');
    expect((error as RealtimeError).cause).toBeInstanceOf(TypeError);
    expect(client.queued.messages).toBe(0);
  });

  it('emit of a cycle: invalid_argument naming the place and what it refers back to', () => {
    const { client } = rig();
    const room: Record<string, unknown> = { name: 'r' };
    room.members = [{ name: 'a', room }];
    const error = thrown(() => client.emit('say', { room })) as RealtimeError;
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('payload.room.members[0].room refers back to payload.room (a cycle)');
    expect(client.queued.messages).toBe(0);
  });

  it('request of a BigInt rejects with invalid_argument naming the place', async () => {
    const { client } = rig();
    await expect(client.request('sum', [1, 2n])).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('payload[1] is a BigInt') });
    expect(client.queued.messages).toBe(0);
  });

  it('a value with a toJSON is sent as its toJSON says, and not warned of', async () => {
    const r = rig({ transports: ['polling'] });
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });
    r.client.emit('say', { n: { toJSON: () => '12' } });
    await vi.waitFor(() => expect(r.fake.received).toHaveLength(1), { timeout: 3000 });
    expect(r.fake.received[0]).toMatchObject({ e: 'say', d: { n: '12' } });
    expect(warnings()).toEqual([]);
  });
});

describe('data JSON would change (development warnings)', () => {
  it('names each place and what JSON sends; the emit goes out as JSON makes it', async () => {
    const r = rig({ transports: ['polling'] });
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });
    r.client.emit('odd', { items: [{ at: new Map([['a', 1]]) }], ratio: NaN, onClick: () => {}, left: undefined, list: [undefined], tags: [Symbol('s')] });
    expect(warnings()).toEqual([
      'realtime-fallback: emit "odd": payload.items[0].at is a Map: JSON sends {} (its entries are lost: convert it, e.g. Object.fromEntries(map) or [...set])',
      'realtime-fallback: emit "odd": payload.ratio is NaN: JSON sends null',
      'realtime-fallback: emit "odd": payload.onClick is a function: JSON sends nothing (the field is left out)',
      'realtime-fallback: emit "odd": payload.list[0] is undefined: JSON sends null',
      'realtime-fallback: emit "odd": payload.tags[0] is a symbol: JSON sends null',
    ]);
    await vi.waitFor(() => expect(r.fake.received).toHaveLength(1), { timeout: 3000 });
    expect(r.fake.received[0]).toMatchObject({ e: 'odd', d: { items: [{ at: {} }], ratio: null, list: [null], tags: [null] } });
  });

  it('warns once per event name and place, however often it is emitted (array indices count as one place)', () => {
    const { client } = rig();
    for (let i = 0; i < 5; i++) client.emit('repeat', { rows: [{ seen: new Set([i]) }, { seen: new Set() }] });
    expect(warnings()).toEqual(['realtime-fallback: emit "repeat": payload.rows[0].seen is a Set: JSON sends {} (its entries are lost: convert it, e.g. Object.fromEntries(map) or [...set])']);
    client.emit('repeat-too', { rows: [{ seen: new Set() }] });
    expect(warnings()).toHaveLength(2);
  });

  it('requests are checked too; Dates, undefined fields and data-less requests are not warned of', () => {
    const { client } = rig();
    void client.request('find', { when: new Date(0), maybe: undefined }).catch(() => {});
    void client.request('list').catch(() => {});
    expect(warnings()).toEqual([]);
    void client.request('find', { re: /x/ }).catch(() => {});
    expect(warnings()).toEqual(['realtime-fallback: request "find": payload.re is a RegExp: JSON sends {} (it has no own enumerable fields)']);
  });

  it('no warning when NODE_ENV is production', () => {
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const { client } = rig();
      client.emit('in-production', { m: new Map() });
    } finally {
      process.env.NODE_ENV = saved;
    }
    expect(warnings()).toEqual([]);
  });
});

describe('a toJSON that throws', () => {
  it('is an invalid_argument carrying what it threw', () => {
    const { client } = rig();
    const error = thrown(() => client.emit('say', { x: { toJSON: () => { throw new Error('not today'); } } })) as RealtimeError;
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('payload of "say" is not JSON-serialisable: Error: not today');
  });
});
