import { describe, expect, it } from 'vitest';
import { BackoffScheduler, type Clock } from '../../src/client/scheduler';
import { createClientSession, type ClientSession, type SessionPoint } from '../../src/client/session';
import type { WelcomeFrame } from '../../src/protocol/frames';

/** Timers that fire only when the test says; counts every one armed. */
function manualClock(): Clock & { armed: number; fire(): void; time: number } {
  const timers = new Map<number, () => void>();
  let next = 1;
  const clock = {
    armed: 0,
    time: 0,
    setTimeout(callback: () => void) {
      clock.armed++;
      timers.set(next, callback);
      return next++;
    },
    clearTimeout(handle: unknown) {
      timers.delete(handle as number);
    },
    now: () => clock.time,
    fire() {
      const due = [...timers];
      timers.clear();
      for (const [, callback] of due) callback();
    },
  };
  return clock;
}

describe('client session acknowledgements', () => {
  it('acknowledges every 32 frames, and what is left within a second, with one timer for the whole stream', () => {
    const clock = manualClock();
    const acks: number[] = [];
    const session = createClientSession(new BackoffScheduler({ initialMs: 1, maxMs: 1, factor: 1, jitter: 0 }, clock), (id) => {
      acks.push(id);
      return true;
    });
    session.adopt({ t: 'welcome', sid: 's', secret: 'x', cid: 'c', hb: 1000, resumed: false, ack: 0, maxFrame: 1 << 20 });
    for (let id = 1; id <= 20_005; id++) {
      expect(session.place({ t: 'msg', id, e: 'n' })).toBe('next');
      session.delivered();
    }
    expect(acks).toHaveLength(625);
    expect(acks.at(-1)).toBe(20_000);
    expect(clock.armed).toBe(1); // re-arming it every 32 frames would make 626
    clock.fire(); // a second later: the 5 left over
    expect(acks.at(-1)).toBe(20_005);
    session.place({ t: 'msg', id: 20_006, e: 'n' });
    session.delivered();
    expect(clock.armed).toBe(2);
  });
});

describe('client session secret', () => {
  it('takes the secret of every welcome, resumed or probe, and says so for persistence', () => {
    let changes = 0;
    const session = createClientSession(new BackoffScheduler({ initialMs: 1, maxMs: 1, factor: 1, jitter: 0 }, manualClock()), () => true, () => void changes++);
    const welcome = { t: 'welcome', sid: 's', secret: 'first', cid: 'c', hb: 1000, resumed: false, ack: 0, maxFrame: 1 << 20 } as const;
    session.adopt(welcome);
    expect(session.adopt({ ...welcome, secret: 'rotated', resumed: true })).toBeNull();
    expect(session.resumePoint()).toEqual({ sid: 's', secret: 'rotated', last: 0 });
    const before = changes;
    session.moved({ ...welcome, secret: 'from-probe', resumed: true, probe: true, hb: 500 });
    expect(session.resumePoint()).toEqual({ sid: 's', secret: 'from-probe', last: 0 });
    expect(session.heartbeatMs).toBe(500);
    expect(changes).toBeGreaterThan(before);
  });
});

describe('client session after a refused resume', () => {
  const welcome = { t: 'welcome', sid: 's', secret: 'first', cid: 'c', hb: 1000, resumed: false, ack: 0, maxFrame: 1 << 20 } as const;
  const fresh = () => createClientSession(new BackoffScheduler({ initialMs: 1, maxMs: 1, factor: 1, jitter: 0 }, manualClock()), () => true);

  it('reports what the old session accepted (welcome.prevAck), and nothing when the server did not say', () => {
    const session = fresh();
    session.adopt(welcome);
    expect(session.adopt({ ...welcome, sid: 't', resumeFailed: 'overrun', prevAck: 7 })).toEqual({ previousSessionId: 's', reason: 'overrun', accepted: 7 });
    expect(session.adopt({ ...welcome, sid: 'u', resumeFailed: 'unknown_session' })).toEqual({ previousSessionId: 't', reason: 'unknown_session' });
  });

  it('after close{session_ended} still names the ended session in its next handshake, to learn what it accepted', () => {
    const session = fresh();
    session.adopt(welcome);
    session.place({ t: 'msg', id: 1, e: 'n' });
    session.markEnded();
    expect(session.resumePoint()).toEqual({ sid: 's', secret: 'first', last: 1 });
    const lost = session.adopt({ ...welcome, sid: 't', secret: 'second', resumeFailed: 'expired', prevAck: 2 });
    expect(lost).toEqual({ previousSessionId: 's', reason: 'session_ended', accepted: 2 });
    expect(session.resumePoint()).toEqual({ sid: 't', secret: 'second', last: 0 });
  });
});

// A leading tab resumes the session another tab ran, from where that tab left it (share/leader-connection.ts).
describe('client session restored from where another tab left it', () => {
  const stillClock: Clock = { setTimeout: () => 0, clearTimeout: () => {}, now: () => 0 };
  const welcome = (w: Partial<WelcomeFrame>): WelcomeFrame => ({ t: 'welcome', sid: 's1', secret: 'x', cid: 'c', hb: 1000, resumed: true, ack: 0, maxFrame: 1 << 20, ...w });
  const msg = (id: number) => ({ t: 'msg' as const, id, e: 'tick' });
  const restored = (sendAck: (id: number) => boolean, from: SessionPoint): ClientSession => {
    const s = createClientSession(new BackoffScheduler({ initialMs: 1, maxMs: 1, factor: 1, jitter: 0 }, stillClock), sendAck);
    s.restore(from);
    return s;
  };

  it('resumes from where that tab left it and counts on from there, in and out', () => {
    const acks: number[] = [];
    const s = restored((id) => (acks.push(id), true), { sid: 's1', secret: 'x', last: 10 });
    expect(s.resumePoint()).toEqual({ sid: 's1', secret: 'x', last: 10 });
    expect(s.id).toBe('s1');
    expect(s.adopt(welcome({ resumed: true }))).toBeNull();
    expect(s.place(msg(10))).toBe('seen');
    expect(s.place(msg(11))).toBe('next');
    expect(s.place(msg(13))).toBe('gap');
    expect(s.lastDelivered).toBe(11);
    expect(s.resumePoint()).toEqual({ sid: 's1', secret: 'x', last: 11 });
    for (let id = 12; id <= 42; id++) {
      expect(s.place(msg(id))).toBe('next');
      s.delivered();
    }
    s.delivered(); // the 32nd delivered frame: acknowledged at once, in the server's numbering
    expect(acks).toEqual([42]);
  });

  it('a resume the server refuses is a lost session, and the new one counts from 1', () => {
    const s = restored(() => true, { sid: 's1', secret: 'x', last: 10 });
    expect(s.adopt(welcome({ sid: 's2', resumed: false, resumeFailed: 'expired' }))).toEqual({ previousSessionId: 's1', reason: 'expired' });
    expect(s.place(msg(1))).toBe('next');
    expect(s.resumePoint()).toEqual({ sid: 's2', secret: 'x', last: 1 });
  });

  it('what the server says the old session accepted is kept for the resync', () => {
    const s = restored(() => true, { sid: 's1', secret: 'x', last: 10 });
    expect(s.adopt(welcome({ sid: 's2', resumed: false, resumeFailed: 'unknown_session', prevAck: 7 }))).toEqual({ previousSessionId: 's1', reason: 'unknown_session', accepted: 7 });
  });
});
