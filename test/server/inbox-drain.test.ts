import { describe, expect, it } from 'vitest';
import { INBOX_BATCH, InboxDrain } from '../../src/server/inbox-drain';
import type { Session } from '../../src/server/session';
import { MemorySessionStore } from '../../src/server/session-store';
import { recordingJournal } from './journal-fake';

const tick = () => new Promise((r) => setImmediate(r));

/** The part of a session the drain uses; `durable` answers true unless `failing`. */
function fakeSession(id: string, opts: { held?: boolean; failing?: boolean } = {}) {
  const delivered: string[][] = [];
  const s = {
    id,
    ended: false,
    lastCid: opts.held === false ? undefined : 'c1',
    deliverFromInbox: (texts: readonly string[]) => delivered.push([...texts]),
    durable: async () => !opts.failing,
  };
  return { session: s as unknown as Session, delivered, state: s };
}

function inbox(entries: string[]) {
  const reads: number[] = [];
  const journal = recordingJournal({
    readInbox: async (_sid, count) => {
      reads.push(count);
      return entries.splice(0, count);
    },
  });
  return { journal, reads };
}

describe('InboxDrain', () => {
  it('numbers queued events in batches, each durable before the next is read', async () => {
    const entries = Array.from({ length: INBOX_BATCH + 5 }, (_, i) => `e${i}`);
    const { journal, reads } = inbox(entries);
    const store = new MemorySessionStore();
    const s = fakeSession('s1');
    store.set(s.session);
    new InboxDrain(store, journal, () => {}).drain('s1');
    await tick();
    expect(s.delivered.map((b) => b.length)).toEqual([INBOX_BATCH, 5]);
    expect(reads).toEqual([INBOX_BATCH, INBOX_BATCH]);
  });

  it('one drain per session at once: a drain asked for meanwhile reads again after the batch', async () => {
    const entries = ['a'];
    const { journal, reads } = inbox(entries);
    const store = new MemorySessionStore();
    const s = fakeSession('s1');
    store.set(s.session);
    const drain = new InboxDrain(store, journal, () => {});
    drain.drain('s1');
    entries.push('b'); // queued while the first batch is on its way
    drain.drain('s1');
    await tick();
    expect(s.delivered).toEqual([['a'], ['b']]); // the second drain read once more instead of running alongside
    expect(reads.length).toBe(2);
    drain.drain('s1'); // idle again: a new drain starts
    await tick();
    expect(reads.length).toBe(3);
  });

  it('drains nothing for a session not held here, ended, unknown, or without a journal; stops when not durable', async () => {
    const { journal, reads } = inbox(['a', 'b']);
    const store = new MemorySessionStore();
    const notHeld = fakeSession('n', { held: false });
    const ended = fakeSession('e');
    ended.state.ended = true;
    store.set(notHeld.session);
    store.set(ended.session);
    const drain = new InboxDrain(store, journal, () => {});
    for (const sid of ['n', 'e', 'unknown']) drain.drain(sid);
    new InboxDrain(store, undefined, () => {}).drain('n');
    await tick();
    expect(reads).toEqual([]);
    const failing = fakeSession('f', { failing: true });
    store.set(failing.session);
    drain.drain('f');
    await tick();
    expect(failing.delivered).toEqual([['a', 'b']]);
    expect(reads).toEqual([INBOX_BATCH]);
  });

  it('an unreadable inbox lets the session go', async () => {
    const journal = recordingJournal({ readInbox: () => Promise.reject(new Error('down')) });
    const store = new MemorySessionStore();
    const s = fakeSession('s1');
    store.set(s.session);
    const failed: unknown[] = [];
    new InboxDrain(store, journal, (session, err) => failed.push([session, (err as Error).message])).drain('s1');
    await tick();
    expect(failed).toEqual([[s.session, 'down']]);
  });
});
