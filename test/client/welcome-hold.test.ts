/**
 * The hold on its own: a contested welcome waits one turn; the close or the end of its connection within that turn
 * makes it stale, anything else lets it win with the frames that came behind it, in order.
 */
import { describe, expect, it } from 'vitest';
import type { ServerFrame, WelcomeFrame } from '../../src/protocol/frames';
import type { TransportFailure } from '../../src/transports/transport';
import type { Connection } from '../../src/client/connection';
import { BackoffScheduler, type Clock } from '../../src/client/scheduler';
import { createWelcomeHold, MAX_HELD_FRAMES } from '../../src/client/welcome-hold';

/** Timers fire only on `advance`; a zero delay is "the next turn". */
class TurnClock implements Clock {
  time = 0;
  private id = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  setTimeout(callback: () => void, ms: number): unknown {
    this.timers.set(++this.id, { at: this.time + ms, callback });
    return this.id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  now(): number {
    return this.time;
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    this.time += ms;
    for (const [id, t] of [...this.timers]) {
      if (t.at > this.time) continue;
      this.timers.delete(id);
      t.callback();
    }
  }
}

const welcome: WelcomeFrame = { t: 'welcome', sid: 's', secret: 'x', cid: 'c', hb: 25_000, resumed: false, ack: 0, maxFrame: 65_536 };
const conn = (name: Connection['name']): Connection => ({ name, opened: false, silent: false, cancelOpenTimer: () => {}, transport: null as never });

function setup(headStartMs = 1000) {
  const clock = new TurnClock();
  const scheduler = new BackoffScheduler({ initialMs: 10, maxMs: 10, factor: 1, jitter: 0 }, clock);
  const fresh: [Connection, ServerFrame[]][] = [];
  const stale: [Connection, TransportFailure][] = [];
  const hold = createWelcomeHold(scheduler, headStartMs, {
    fresh: (c, _w, after) => void fresh.push([c, after]),
    stale: (c, f) => void stale.push([c, f]),
  });
  return { clock, hold, fresh, stale };
}

describe('welcome hold', () => {
  it('a welcome with nothing ending its connection in its turn wins, with the frames behind it in order (pings dropped)', () => {
    const { clock, hold, fresh, stale } = setup();
    const sse = conn('sse');
    hold.hold(sse, welcome);
    hold.frame(sse, { t: 'msg', id: 1, e: 'n' });
    hold.frame(sse, { t: 'ping' });
    hold.frame(sse, { t: 'ack', n: 3 });
    expect(fresh).toEqual([]);
    clock.advance(0);
    expect(fresh).toEqual([[sse, [{ t: 'msg', id: 1, e: 'n' }, { t: 'ack', n: 3 }]]]);
    expect(stale).toEqual([]);
    expect(hold.holds(sse)).toBe(false);
  });

  it('a welcome followed by close{replaced} in its turn is stale: a buffered failure naming the close', () => {
    const { clock, hold, fresh, stale } = setup();
    const sse = conn('sse');
    hold.hold(sse, welcome);
    hold.frame(sse, { t: 'ping' });
    hold.frame(sse, { t: 'close', code: 'replaced' });
    expect(stale).toEqual([[sse, { kind: 'buffered', code: 'replaced', message: expect.stringContaining('close{replaced}') }]]);
    expect(clock.pending).toBe(0); // its turn's timer went with it
    clock.advance(0);
    expect(fresh).toEqual([]);
  });

  it('close{shutdown} with the welcome makes it stale but is no strike against the transport; replaced and ended are', () => {
    const { hold } = setup();
    for (const code of ['shutdown', 'shutdown', 'session_ended'] as const) {
      const sse = conn('sse');
      hold.hold(sse, welcome);
      hold.frame(sse, { t: 'close', code });
    }
    expect(hold.avoided('sse')).toBe(false);
    const first = conn('sse');
    hold.hold(first, welcome);
    hold.frame(first, { t: 'close', code: 'replaced' });
    const second = conn('sse');
    hold.hold(second, welcome);
    hold.failed(second, { kind: 'network', message: 'SSE ended' });
    expect(hold.avoided('sse')).toBe(true);
  });

  it('a welcome whose stream ended in its turn is stale', () => {
    const { hold, stale } = setup();
    const sse = conn('sse');
    hold.hold(sse, welcome);
    hold.failed(sse, { kind: 'network', message: 'SSE ended' });
    expect(stale).toEqual([[sse, { kind: 'buffered', message: expect.stringContaining('the end of its stream (SSE ended)') }]]);
    const polling = conn('polling');
    hold.hold(polling, welcome);
    const bad: TransportFailure = { kind: 'protocol', message: 'poll answer: not JSON' };
    hold.failed(polling, bad);
    expect(stale[1]).toEqual([polling, bad]); // not an end: it loses as itself
  });

  it('gathers at most MAX_HELD_FRAMES: that much in one turn is a live stream, let through at once', () => {
    const { hold, fresh } = setup();
    const sse = conn('sse');
    hold.hold(sse, welcome);
    for (let id = 1; id <= MAX_HELD_FRAMES; id++) hold.frame(sse, { t: 'msg', id, e: 'n' });
    expect(fresh).toHaveLength(1);
    expect(fresh[0]![1]).toHaveLength(MAX_HELD_FRAMES);
  });

  it('clear() forgets every held welcome and its timer', () => {
    const { clock, hold, fresh } = setup();
    hold.hold(conn('sse'), welcome);
    hold.hold(conn('polling'), welcome);
    hold.clear();
    expect(clock.pending).toBe(0);
    clock.advance(0);
    expect(fresh).toEqual([]);
  });

  it('a winner replaced (or its SSE stream ended) within the head start is a strike; the second moves the walk on', () => {
    const { clock, hold } = setup(1000);
    const sse = conn('sse');
    hold.won(sse);
    expect(hold.staleWinner(conn('sse'))).toBeNull(); // not the winner
    expect(hold.staleWinner(sse, { kind: 'http', status: 502, message: 'SSE answered 502' })).toBeNull(); // not an end
    clock.advance(999);
    expect(hold.staleWinner(sse)).toBeNull(); // a strike, reopened as any drop (a late racer replaces a winner too)
    expect(hold.avoided('sse')).toBe(false);
    hold.won(sse);
    clock.advance(1000);
    expect(hold.staleWinner(sse, { kind: 'network', message: 'SSE ended' })).toBeNull(); // it had lived a head start
    expect(hold.avoided('sse')).toBe(false);
    hold.won(sse);
    expect(hold.staleWinner(sse, { kind: 'network', message: 'SSE ended' })).toMatchObject({ kind: 'buffered', message: expect.stringContaining('its stream ended (SSE ended) right after it won the race') });
    expect(hold.avoided('sse')).toBe(true);
    expect(hold.staleWinner(sse)).toBeNull(); // judged once
    const polling = conn('polling');
    hold.won(polling);
    expect(hold.staleWinner(polling, { kind: 'network', message: 'poll failed' })).toBeNull(); // only a stream ends so
    expect(hold.avoided('polling')).toBe(false);
    hold.won(polling);
    expect(hold.staleWinner(polling)).toBeNull(); // a replacement counts on any transport: one strike
    hold.won(polling);
    expect(hold.staleWinner(polling)).toMatchObject({ kind: 'buffered' });
  });
});
