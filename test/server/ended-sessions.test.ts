import { describe, expect, it } from 'vitest';
import { EndedSessions } from '../../src/server/ended-sessions';

const secrets = (secret: string, previous: string | null = null) => ({ secret, previous });

describe('EndedSessions', () => {
  it('tells what an ended session accepted to a handshake with its current or previous secret, and nothing to others', () => {
    const ended = new EndedSessions({ windowMs: 1000, maxCount: 10 }, () => 0);
    ended.remember('a', 7, secrets('now', 'before'));
    expect(ended.lookup('a', 'now')).toEqual({ accepted: 7 });
    expect(ended.lookup('a', 'before')).toEqual({ accepted: 7 });
    expect(ended.lookup('a', 'wrong')).toEqual({});
    expect(ended.lookup('a', '')).toEqual({});
    expect(ended.lookup('b', 'now')).toBeNull();
  });

  it('forgets a session once its window has passed', () => {
    let now = 0;
    const ended = new EndedSessions({ windowMs: 1000, maxCount: 10 }, () => now);
    ended.remember('a', 1, secrets('s'));
    now = 500;
    ended.remember('b', 2, secrets('s'));
    now = 999;
    expect(ended.lookup('a', 's')).toEqual({ accepted: 1 });
    now = 1000;
    expect(ended.lookup('a', 's')).toBeNull();
    expect(ended.lookup('b', 's')).toEqual({ accepted: 2 });
    expect(ended.size).toBe(1);
  });

  it('holds at most maxCount sessions, forgetting the oldest first', () => {
    const ended = new EndedSessions({ windowMs: 60_000, maxCount: 3 }, () => 0);
    for (const id of ['a', 'b', 'c', 'd', 'e']) ended.remember(id, 1, secrets('s'));
    expect(ended.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => ended.lookup(id, 's') !== null)).toEqual([false, false, true, true, true]);
  });

  it('a session remembered again (its record read from a journal) counts once, as the newest', () => {
    const ended = new EndedSessions({ windowMs: 60_000, maxCount: 2 }, () => 0);
    ended.remember('a', 1, secrets('s'));
    ended.remember('b', 1, secrets('s'));
    ended.remember('a', 4, secrets('s'));
    ended.remember('c', 1, secrets('s'));
    expect(ended.size).toBe(2);
    expect(ended.lookup('a', 's')).toEqual({ accepted: 4 });
    expect(ended.lookup('b', 's')).toBeNull();
  });
});
