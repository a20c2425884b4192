import { describe, expect, it, vi } from 'vitest';
import type { PersistedState, PersistStore } from '../../../src/client/persistence';
import { RealtimeError } from '../../../src/client/errors';
import { FakeRealtime } from './fake-realtime';
import { rig, useMsw, type Rig } from './harness';
import { settle } from './manual-clock';

useMsw();

/** A store in memory, copying on the way in and out as IndexedDB does; records every write. */
function memoryStore(): PersistStore & { map: Map<string, PersistedState>; writes: number; failing: boolean } {
  const map = new Map<string, PersistedState>();
  const store = {
    map,
    writes: 0,
    failing: false,
    load: async (key: string) => structuredClone(map.get(key)),
    save: async (key: string, state: PersistedState) => {
      if (store.failing) throw new Error('QuotaExceededError');
      store.writes++;
      map.set(key, structuredClone(state));
    },
    remove: async (key: string) => void map.delete(key),
  };
  return store;
}

/** This tab's sessionStorage (kept across a reload, like a browser's). */
function tabStorage() {
  const map = new Map<string, string>();
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), removeItem: (k: string) => void map.delete(k) };
}

const waitOpen = (r: Rig) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

/**
 * A page that connects over WebSocket, gets three messages, emits 5 that the server accepts, then loses the server and
 * emits 50 more (6..55).
 */
async function firstPage(store: PersistStore, storage: ReturnType<typeof tabStorage>, user = 'alice') {
  const fake = new FakeRealtime();
  const page = rig({ transports: ['websocket'], persist: store, storage, auth: () => ({ token: 't', user }) }, fake);
  page.client.connect();
  await waitOpen(page);
  for (let i = 1; i <= 3; i++) fake.push('n', i);
  await vi.waitFor(() => expect(page.messages).toHaveLength(3));
  for (let i = 1; i <= 5; i++) page.client.emit('say', i);
  await vi.waitFor(() => expect(fake.received).toHaveLength(5));
  fake.behaviour.websocket = 'refuse';
  fake.drop();
  await vi.waitFor(() => expect(page.client.state).toBe('reconnecting'));
  for (let i = 6; i <= 55; i++) page.client.emit('say', i);
  await settle(20); // written at the end of the turn
  return { fake, page, sid: page.client.sessionId! };
}

describe('persist: the session and the outbox across page loads', () => {
  it('50 emits made offline survive a reload and reach the server once, in order; messages sent meanwhile are replayed with no gap', async () => {
    const store = memoryStore();
    const storage = tabStorage();
    const { fake, sid } = await firstPage(store, storage);
    // The page is gone (no close: a reload or a crash); the server sent more meanwhile.
    for (let i = 4; i <= 6; i++) fake.push('n', i);
    fake.behaviour.websocket = 'ok';

    const next = rig({ transports: ['websocket'], persist: store, storage, auth: () => ({ token: 't', user: 'alice' }) }, fake);
    next.client.emit('say', 56); // accepted before the kept state is read: it goes after it
    next.client.connect();
    await waitOpen(next);
    expect(next.client.sessionId).toBe(sid);
    expect(fake.handshakes.at(-1)!.query.get('sid')).toBe(sid);
    // Numbered on from the last page's numbers, so none is taken for one the server has already.
    await vi.waitFor(() => expect(fake.received.map((f) => f.d)).toEqual(Array.from({ length: 56 }, (_, i) => i + 1)));
    await vi.waitFor(() => expect(next.messages.map((m) => m[1])).toEqual([4, 5, 6]));
    expect(next.of('resync')).toEqual([]);
    expect(fake.duplicates).toBe(0);
  });

  it("resume: 'skip' takes what the server sent while the page was away as seen, and delivers what follows", async () => {
    const store = memoryStore();
    const storage = tabStorage();
    const { fake, sid } = await firstPage(store, storage);
    for (let i = 4; i <= 6; i++) fake.push('n', i);
    fake.behaviour.websocket = 'ok';

    const next = rig({ transports: ['websocket'], persist: store, storage, resume: 'skip', auth: () => ({ token: 't', user: 'alice' }) }, fake);
    next.client.connect();
    await waitOpen(next);
    expect(next.client.sessionId).toBe(sid);
    fake.push('n', 7);
    await vi.waitFor(() => expect(next.messages.map((m) => m[1])).toEqual([7]));
    await vi.waitFor(() => expect(fake.received).toHaveLength(55)); // emits are never skipped
    await vi.waitFor(() => expect(fake.session!.acked).toBeGreaterThanOrEqual(6)); // the skipped ones acknowledged at once
  });

  it('another user never resumes the session nor sends the emits kept for the first', async () => {
    const store = memoryStore();
    const storage = tabStorage();
    const { fake, sid } = await firstPage(store, storage, 'alice');
    fake.behaviour.websocket = 'ok';
    const next = rig({ transports: ['websocket'], persist: store, storage, auth: () => ({ token: 'b', user: 'bob' }) }, fake);
    next.client.connect();
    await waitOpen(next);
    expect(fake.handshakes.at(-1)!.query.get('sid')).toBeNull();
    expect(next.client.sessionId).not.toBe(sid);
    await settle(50);
    expect(fake.received).toHaveLength(5); // alice's, from before the reload; none of her 50 kept ones
    expect(next.client.queued.messages).toBe(0);
  });

  it('forget() (logout) deletes what was kept: the next page starts afresh', async () => {
    const store = memoryStore();
    const storage = tabStorage();
    const { fake, page } = await firstPage(store, storage);
    expect(store.map.size).toBe(1);
    await page.client.forget();
    expect(store.map.size).toBe(0);
    expect(page.client.state).toBe('closed');
    expect(page.client.queued.messages).toBe(0);
    fake.behaviour.websocket = 'ok';
    const next = rig({ transports: ['websocket'], persist: store, storage, auth: () => ({ token: 't', user: 'alice' }) }, fake);
    next.client.connect();
    await waitOpen(next);
    expect(fake.handshakes.at(-1)!.query.get('sid')).toBeNull();
    await settle(50);
    expect(fake.received).toHaveLength(5);
  });

  it('two tabs (each its own sessionStorage) keep apart: neither resumes the other', async () => {
    const store = memoryStore();
    const { fake, sid } = await firstPage(store, tabStorage());
    fake.behaviour.websocket = 'ok';
    const other = rig({ transports: ['websocket'], persist: store, storage: tabStorage(), auth: () => ({ token: 't', user: 'alice' }) }, fake);
    other.client.connect();
    await waitOpen(other);
    expect(other.client.sessionId).not.toBe(sid);
    expect(store.map.size).toBe(2);
  });

  it('a store that fails says so once (storage_failed) and the client goes on in memory', async () => {
    const store = memoryStore();
    store.failing = true;
    const r = rig({ transports: ['websocket'], persist: store, storage: tabStorage() });
    r.client.connect();
    await waitOpen(r);
    for (let i = 1; i <= 5; i++) r.client.emit('say', i);
    await vi.waitFor(() => expect(r.fake.received).toHaveLength(5));
    const errors = r.of('error').filter((e) => e.code === 'storage_failed');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RealtimeError);
    expect(r.client.state).toBe('open');
  });

  it('without persist nothing is written; bad persist and resume values are refused', async () => {
    const store = memoryStore();
    const r = rig({ transports: ['websocket'] });
    r.client.connect();
    await waitOpen(r);
    r.client.emit('say', 1);
    await settle(20);
    expect(store.writes).toBe(0);
    const make = (o: object) => () => rig(o as never);
    expect(make({ persist: 'yes' })).toThrow(/option persist must be a boolean or a store/);
    expect(make({ persist: {} })).toThrow(/option persist must be a boolean or a store/);
    expect(make({ resume: 'later' })).toThrow(/option resume must be 'replay' or 'skip'/);
    expect(make({ persist: true, protocol: 'plain', endpoints: { websocket: '/ws' } })).toThrow(/option persist needs protocol realtime-fallback/);
    expect(make({ persist: true, share: true })).toThrow(/options persist and share cannot be used together/);
  });
});
