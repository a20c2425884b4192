import { describe, expect, it } from 'vitest';
import { FallbackWalk } from '../../src/client/fallback-walk';

/** Backoff that shows which attempt number it was asked for. */
const backoff = (attempt: number): number => 1000 * (attempt + 1);
const walk = (retries = 2, count = 3): FallbackWalk => new FallbackWalk(count, retries, backoff);

describe('FallbackWalk', () => {
  it('steps down at once while nothing has opened, then backs off a round and starts from the top', () => {
    const w = walk();
    w.start(0);
    expect([w.index, w.reason]).toEqual([0, 'connect']);
    expect(w.failed(false)).toEqual({ delayMs: 0, kind: 'next' });
    expect([w.index, w.reason]).toEqual([1, 'fallback']);
    expect(w.failed(false)).toEqual({ delayMs: 0, kind: 'next' });
    expect(w.index).toBe(2);
    expect(w.failed(false)).toEqual({ delayMs: 1000, kind: 'round' });
    expect([w.index, w.reason]).toEqual([0, 'connect']);
    w.failed(false);
    w.failed(false);
    expect(w.failed(false)).toEqual({ delayMs: 2000, kind: 'round' }); // rounds grow
  });

  it('reopens a dropped transport with growing backoff, retriesPerTransport times, then steps down', () => {
    const w = walk(2);
    w.start(0);
    w.opened();
    expect(w.failed(true)).toEqual({ delayMs: 1000, kind: 'reopen' });
    expect(w.failed(false)).toEqual({ delayMs: 2000, kind: 'retry' });
    expect(w.index).toBe(0);
    expect(w.failed(false)).toEqual({ delayMs: 0, kind: 'next' });
    expect([w.index, w.reason]).toEqual([1, 'fallback']);
  });

  it('leaves a transport that had worked at once when a reopen goes unanswered (a proxy that started buffering)', () => {
    const w = walk(3);
    w.start(1);
    w.opened();
    expect(w.failed(true)).toEqual({ delayMs: 1000, kind: 'reopen' });
    expect(w.failed(false, true)).toEqual({ delayMs: 0, kind: 'next' });
    expect([w.index, w.reason]).toEqual([2, 'fallback']);
  });

  it('leaves an open transport whose stream a proxy buffers at once, for the next one, with reason fallback', () => {
    const w = walk(3);
    w.start(0);
    w.failed(false); // WebSocket refused: on SSE
    w.opened();
    w.failed(true); // one ordinary drop on SSE first: the failure count must not carry over
    w.opened();
    expect(w.buffered()).toEqual({ delayMs: 0, kind: 'next' });
    expect([w.index, w.reason]).toEqual([2, 'fallback']);
    // polling fails before it opens: not sticky, so the walk goes on as usual (a round)
    expect(w.failed(false)).toEqual({ delayMs: 1000, kind: 'round' });
  });

  it('a buffered last transport is reopened as after a drop (there is nowhere to go)', () => {
    const w = walk(3);
    w.start(2);
    w.opened();
    expect(w.buffered()).toEqual({ delayMs: 1000, kind: 'reopen' });
    expect(w.index).toBe(2);
  });

  it('opening resets the counts: the next drop starts the backoff over', () => {
    const w = walk(5);
    w.start(0);
    w.opened();
    w.failed(true);
    w.failed(false);
    w.opened();
    expect(w.failed(true)).toEqual({ delayMs: 1000, kind: 'reopen' });
  });

  it('gives a remembered transport no retries before it opens', () => {
    const w = walk();
    w.start(2);
    expect([w.index, w.reason]).toEqual([2, 'remembered']);
    expect(w.failed(false)).toEqual({ delayMs: 1000, kind: 'round' });
    expect(w.index).toBe(0);
  });

  it('after an upgrade, a drop reopens the transport moved to', () => {
    const w = walk();
    w.start(0);
    w.failed(false); // on SSE now
    w.opened();
    w.moveTo(0);
    expect(w.failed(true).kind).toBe('reopen');
    expect(w.index).toBe(0);
  });

  it('pause() backs off as a failed round, sharing its count', () => {
    const w = walk();
    w.start(0);
    expect(w.pause()).toBe(1000);
    expect(w.pause()).toBe(2000);
    w.opened();
    expect(w.pause()).toBe(1000);
  });

  it('passes by a transport it is told to avoid (stale welcomes), but never the last one', () => {
    const avoided = new Set<number>([1]);
    const w = new FallbackWalk(3, 2, backoff, (i) => avoided.has(i));
    w.start(0);
    expect(w.failed(false)).toEqual({ delayMs: 0, kind: 'next' });
    expect([w.index, w.reason]).toEqual([2, 'fallback']); // SSE passed by
    w.start(1); // remembered SSE, avoided since: it starts on polling
    expect([w.index, w.reason]).toEqual([2, 'remembered']);
    avoided.add(0);
    expect(w.failed(false).kind).toBe('round');
    expect([w.index, w.reason]).toEqual([2, 'connect']); // a round from the top lands on the one not avoided
    avoided.add(2);
    w.start(0);
    expect(w.index).toBe(2); // every transport avoided: the last is still tried
    avoided.clear();
    w.start(0);
    w.opened();
    avoided.add(1);
    expect(w.buffered()).toEqual({ delayMs: 0, kind: 'next' });
    expect(w.index).toBe(2);
  });
});
