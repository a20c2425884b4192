import { describe, expect, it } from 'vitest';
import { JOIN_WINDOW_MS, JoinRegistry } from '../../src/server/join-registry';
import type { Session } from '../../src/server/session';

/** What the registry reads of a session. */
const fakeSession = () => ({ ended: false, secretPresented: false, replayable: true, canReplay() { return this.replayable; } });
const KEY = 'Jk9aQ2xpZW50LXJhY2Uta2V5';

describe('JoinRegistry', () => {
  it('finds the session for the same key and equal credentials (any key order), within the window only', () => {
    let now = 1000;
    const joins = new JoinRegistry(() => now);
    const s = fakeSession();
    joins.add(KEY, { user: 'ann', roles: ['a'] }, s as unknown as Session);
    expect(joins.find(KEY, { roles: ['a'], user: 'ann' })).toBe(s);
    expect(joins.find(KEY, { user: 'bob', roles: ['a'] })).toBeUndefined();
    expect(joins.find('another-key-0123456789', { user: 'ann', roles: ['a'] })).toBeUndefined();
    expect(joins.find(undefined, { user: 'ann', roles: ['a'] })).toBeUndefined();
    now += JOIN_WINDOW_MS;
    expect(joins.find(KEY, { user: 'ann', roles: ['a'] })).toBe(s);
    now += 1;
    expect(joins.find(KEY, { user: 'ann', roles: ['a'] })).toBeUndefined();
  });

  it('finds nothing once the client presented the secret, the session ended, or its first frames are gone', () => {
    const joins = new JoinRegistry(() => 0);
    const changes: ((s: ReturnType<typeof fakeSession>) => void)[] = [
      (s) => (s.secretPresented = true),
      (s) => (s.ended = true),
      (s) => (s.replayable = false),
    ];
    for (const change of changes) {
      const s = fakeSession();
      joins.add(KEY, true, s as unknown as Session);
      expect(joins.find(KEY, true)).toBe(s);
      change(s);
      expect(joins.find(KEY, true)).toBeUndefined();
    }
  });

  it('credentials JSON cannot write never join; a removed session is not found', () => {
    const joins = new JoinRegistry(() => 0);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    joins.add(KEY, cyclic, fakeSession() as unknown as Session);
    expect(joins.find(KEY, cyclic)).toBeUndefined();
    joins.add(KEY, 1n, fakeSession() as unknown as Session);
    expect(joins.find(KEY, 1n)).toBeUndefined();
    const s = fakeSession() as unknown as Session;
    joins.add(KEY, true, s);
    joins.remove(s);
    expect(joins.find(KEY, true)).toBeUndefined();
  });
});
