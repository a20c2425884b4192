import { describe, expect, it } from 'vitest';
import type { WelcomeFrame } from '../../../src/protocol/frames';
import { BackoffScheduler, type Clock } from '../../../src/client/scheduler';
import { continueSession } from '../../../src/client/share/continued-session';

const clock: Clock = { setTimeout: () => 0, clearTimeout: () => {}, now: () => 0 };
const scheduler = (): BackoffScheduler => new BackoffScheduler({ initialMs: 1, maxMs: 1, factor: 1, jitter: 0 }, clock);
const welcome = (w: Partial<WelcomeFrame>): WelcomeFrame => ({ t: 'welcome', sid: 's1', secret: 'x', cid: 'c', hb: 1000, resumed: true, ack: 0, maxFrame: 1 << 20, ...w });
const msg = (id: number) => ({ t: 'msg' as const, id, e: 'tick' });

describe('continueSession: the session another tab ran, continued', () => {
  it('resumes from where that tab left it and counts on from there, in and out', () => {
    const acks: number[] = [];
    const s = continueSession(scheduler(), (id) => (acks.push(id), true), { sid: 's1', secret: 'x', last: 10 });
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
    const s = continueSession(scheduler(), () => true, { sid: 's1', secret: 'x', last: 10 });
    expect(s.adopt(welcome({ sid: 's2', resumed: false, resumeFailed: 'expired' }))).toEqual({ previousSessionId: 's1', reason: 'expired' });
    expect(s.place(msg(1))).toBe('next');
    expect(s.resumePoint()).toEqual({ sid: 's2', secret: 'x', last: 1 });
  });

  it('without a session to continue it is the plain session', () => {
    const s = continueSession(scheduler(), () => true, null);
    expect(s.resumePoint()).toBeNull();
    expect(s.adopt(welcome({ resumed: false }))).toBeNull();
    expect(s.place(msg(1))).toBe('next');
  });
});
