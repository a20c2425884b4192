import { describe, expect, it } from 'vitest';
import { REPLAY_FRAMES, SessionReplica } from '../../../src/client/share/replica';
import type { SentItem, TabMessage } from '../../../src/client/share/messages';

const item = (s: number, tab: string, n: number, t: 'emit' | 'req' = 'emit'): SentItem => ({ s, tab, n, f: { t, seq: s, e: 'say', d: n } });
const msg = (id: number) => ({ t: 'msg' as const, id, e: 'tick', d: id });

describe('SessionReplica: what the next leader resumes from', () => {
  it('starts a session when none was seen', () => {
    expect(new SessionReplica().seed()).toEqual({ session: null, seqBase: 0, resend: [] });
  });

  it('resumes the session at the last frame passed on, and resends the unacknowledged frames with their own numbers', () => {
    const r = new SessionReplica();
    r.apply({ k: 'session', sid: 's1', secret: 'x' });
    r.apply({ k: 'frames', frames: [msg(1), msg(2), msg(3)] });
    r.apply({ k: 'sent', items: [item(1, 'a', 1), item(2, 'b', 1), item(3, 'a', 2), item(4, 'b', 2)] });
    r.apply({ k: 'acked', n: 2, tabs: { a: 1, b: 1 } });
    const seed = r.seed();
    expect(seed.session).toEqual({ sid: 's1', secret: 'x', last: 3 });
    expect(seed.seqBase).toBe(2);
    expect(seed.resend.map((i) => [i.s, i.tab, i.n])).toEqual([[3, 'a', 2], [4, 'b', 2]]);
    expect([...r.accepted]).toEqual([['a', 2], ['b', 2]]);
    expect([...r.acked]).toEqual([['a', 1], ['b', 1]]);
  });

  it('continues the numbering after the last number used when nothing waits', () => {
    const r = new SessionReplica();
    r.apply({ k: 'session', sid: 's1', secret: 'x' });
    r.apply({ k: 'sent', items: [item(1, 'a', 1), item(2, 'a', 2)] });
    r.apply({ k: 'acked', n: 2, tabs: { a: 2 } });
    expect(r.seed()).toMatchObject({ seqBase: 2, resend: [] });
  });

  it('keeps only the contiguous run of unacknowledged frames; a tab past a missing number may send its frames again', () => {
    const r = new SessionReplica();
    r.apply({ k: 'session', sid: 's1', secret: 'x' });
    r.apply({ k: 'sent', items: [item(1, 'a', 1), item(2, 'a', 2), item(4, 'b', 7)] });
    const seed = r.seed();
    expect(seed.resend.map((i) => i.s)).toEqual([1, 2]);
    expect(r.accepted.get('b')).toBe(6);
  });

  it('applying a message twice changes nothing (the leader applies its own, then hears the echo)', () => {
    const once = new SessionReplica();
    const twice = new SessionReplica();
    const messages: TabMessage[] = [
      { k: 'session', sid: 's1', secret: 'x' },
      { k: 'frames', frames: [msg(1), msg(2)] },
      { k: 'sent', items: [item(1, 'a', 1)] },
      { k: 'acked', n: 1, tabs: { a: 1 } },
    ];
    for (const m of messages) once.apply(m);
    for (const m of messages) {
      twice.apply(m);
      twice.apply(m);
    }
    expect(twice.seed()).toEqual(once.seed());
    expect(twice.recent).toEqual(once.recent);
  });

  it('replays what a tab behind it missed, and says when that is no longer kept', () => {
    const r = new SessionReplica();
    r.apply({ k: 'session', sid: 's1', secret: 'x' });
    r.apply({ k: 'frames', frames: Array.from({ length: REPLAY_FRAMES + 10 }, (_, i) => msg(i + 1)) });
    expect(r.after(REPLAY_FRAMES + 7)!.map((f) => f.id)).toEqual([REPLAY_FRAMES + 8, REPLAY_FRAMES + 9, REPLAY_FRAMES + 10]);
    expect(r.after(REPLAY_FRAMES + 10)).toEqual([]);
    expect(r.after(3)).toBeNull();
    expect(r.after(10)!).toHaveLength(REPLAY_FRAMES);
  });

  it('a new session forgets everything of the old one', () => {
    const r = new SessionReplica();
    r.apply({ k: 'session', sid: 's1', secret: 'x' });
    r.apply({ k: 'frames', frames: [msg(1)] });
    r.apply({ k: 'sent', items: [item(1, 'a', 1)] });
    r.apply({ k: 'session', sid: 's2', secret: 'y' });
    expect(r.seed()).toEqual({ session: { sid: 's2', secret: 'y', last: 0 }, seqBase: 0, resend: [] });
  });

  it('a tab that joins mid-session takes the leader snapshot, and keeps what it heard since', () => {
    const leader = new SessionReplica();
    leader.apply({ k: 'session', sid: 's1', secret: 'x' });
    leader.apply({ k: 'frames', frames: [msg(1), msg(2)] });
    leader.apply({ k: 'sent', items: [item(1, 'a', 1), item(2, 'a', 2)] });
    leader.apply({ k: 'acked', n: 1, tabs: { a: 1 } });
    const late = new SessionReplica();
    late.apply({ k: 'frames', frames: [msg(3)] }); // heard before its welcome: not the next one, ignored
    late.adopt(leader.snapshot(), leader.last);
    late.apply({ k: 'frames', frames: [msg(3)] });
    expect(late.seed()).toEqual({ session: { sid: 's1', secret: 'x', last: 3 }, seqBase: 1, resend: [item(2, 'a', 2)] });
  });

  it('names a visible tab other than itself', () => {
    const r = new SessionReplica();
    r.apply({ k: 'hello', tab: 'a', sid: null, last: 0, visible: true });
    r.apply({ k: 'hello', tab: 'b', sid: null, last: 0, visible: false });
    expect(r.visibleTab('a')).toBeNull();
    r.apply({ k: 'seen', tab: 'b', visible: true });
    expect(r.visibleTab('a')).toBe('b');
    r.apply({ k: 'bye', tab: 'b' });
    expect(r.visibleTab('a')).toBeNull();
  });
});
