import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/client/outbox';
import { RealtimeError } from '../../src/client/errors';

const roomy = { maxCount: 100, maxBytes: 1_000_000 };
const seqs = (entries: { frame: { seq: number } }[]): number[] => entries.map((e) => e.frame.seq);

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('Outbox.add', () => {
  it('accepts a frame unsent (seq 0) and counts its UTF-8 JSON size', () => {
    const box = new Outbox(roomy);
    const entry = box.add('emit', 'say', { text: 'héllo €' });
    expect(entry.frame).toEqual({ t: 'emit', seq: 0, e: 'say', d: { text: 'héllo €' } });
    expect(entry.bytes).toBe(Buffer.byteLength(JSON.stringify(entry.frame)));
    expect(entry.bytes).toBeGreaterThan(JSON.stringify(entry.frame).length); // é and € are multi-byte
    expect(box.size).toBe(1);
    expect(box.bytes).toBe(entry.bytes);
  });

  it('leaves d out when there is no data, and keeps the expiry when given', () => {
    const box = new Outbox(roomy);
    const a = box.add('req', 'ping', undefined);
    const b = box.add('emit', 'x', null, 500);
    expect('d' in a.frame).toBe(false);
    expect(a.expiresAt).toBeUndefined();
    expect(b.frame.d).toBeNull();
    expect(b.expiresAt).toBe(500);
    expect(box.bytes).toBe(a.bytes + b.bytes);
  });

  it('refuses the frame past maxCount with outbox_full and keeps every accepted one', () => {
    const box = new Outbox({ maxCount: 2, maxBytes: 1_000_000 });
    const a = box.add('emit', 'a', 1);
    const b = box.add('emit', 'b', 2);
    const error = catchError(() => box.add('emit', 'c', 3));
    expect(error).toBeInstanceOf(RealtimeError);
    expect((error as RealtimeError).code).toBe('outbox_full');
    expect((error as RealtimeError).message).toMatch(/outbox full \(2 frames.*limits 2 frames/);
    expect(box.size).toBe(2);
    expect(box.has(a)).toBe(true);
    expect(box.has(b)).toBe(true);
    expect(box.bytes).toBe(a.bytes + b.bytes);
    expect(seqs(box.take(0, false).frames)).toEqual([1, 2]);
  });

  it('accepts a frame that fills maxBytes exactly and refuses one byte more', () => {
    const probe = new Outbox(roomy).add('emit', 'e', 'abc');
    const box = new Outbox({ maxCount: 100, maxBytes: probe.bytes * 2 });
    const a = box.add('emit', 'e', 'abc');
    box.add('emit', 'e', 'abc');
    expect(box.bytes).toBe(probe.bytes * 2);
    const error = catchError(() => box.add('emit', 'e', ''));
    expect((error as RealtimeError).code).toBe('outbox_full');
    expect(box.size).toBe(2);
    // an acknowledgement frees the room again
    box.take(0, false);
    box.ack(1);
    expect(box.has(a)).toBe(false);
    expect(box.add('emit', 'e', 'abc').bytes).toBe(probe.bytes);
  });

  it('refuses a single frame larger than maxBytes even when empty', () => {
    const box = new Outbox({ maxCount: 10, maxBytes: 10 });
    expect((catchError(() => box.add('emit', 'big', 'x'.repeat(50))) as RealtimeError).code).toBe('outbox_full');
    expect(box.size).toBe(0);
    expect(box.bytes).toBe(0);
  });
});

describe('Outbox.take', () => {
  it('numbers unsent frames from 1 at first transmission, in order', () => {
    const box = new Outbox(roomy);
    const entries = [box.add('emit', 'a', 1), box.add('req', 'b', 2), box.add('emit', 'c', 3)];
    expect(seqs(entries)).toEqual([0, 0, 0]);
    const { frames, expired } = box.take(0, false);
    expect(frames).toEqual(entries);
    expect(seqs(frames)).toEqual([1, 2, 3]);
    expect(expired).toEqual([]);
  });

  it('without all, returns only frames never sent; with all, every unacknowledged one', () => {
    const box = new Outbox(roomy);
    box.add('emit', 'a', 1);
    box.add('emit', 'b', 2);
    box.take(0, false);
    expect(box.take(0, false).frames).toEqual([]);
    box.add('emit', 'c', 3);
    expect(seqs(box.take(0, false).frames)).toEqual([3]);
    const all = box.take(0, true);
    expect(seqs(all.frames)).toEqual([1, 2, 3]); // seqs unchanged on re-send
    expect(all.frames.map((f) => f.frame.e)).toEqual(['a', 'b', 'c']);
  });

  it('with all, numbers the unsent frames after the sent ones', () => {
    const box = new Outbox(roomy);
    box.add('emit', 'a', 1);
    box.take(0, false);
    box.add('emit', 'b', 2);
    expect(seqs(box.take(0, true).frames)).toEqual([1, 2]);
  });

  it('removes and returns unsent frames past their deadline, leaving no gap in the numbering', () => {
    const box = new Outbox(roomy);
    const a = box.add('emit', 'a', 1, 100);
    const b = box.add('emit', 'b', 2, 50);
    const c = box.add('emit', 'c', 3);
    const d = box.add('emit', 'd', 4, 75); // exactly at its deadline: still sendable
    const { frames, expired } = box.take(75, false);
    expect(expired).toEqual([b]);
    expect(frames).toEqual([a, c, d]);
    expect(seqs(frames)).toEqual([1, 2, 3]);
    expect(box.has(b)).toBe(false);
    expect(box.size).toBe(3);
    expect(box.bytes).toBe(a.bytes + c.bytes + d.bytes);
  });

  it('never expires a frame once it was sent', () => {
    const box = new Outbox(roomy);
    const a = box.add('emit', 'a', 1, 100);
    box.take(10, false);
    const later = box.take(10_000, true);
    expect(later.expired).toEqual([]);
    expect(later.frames).toEqual([a]);
    expect(box.has(a)).toBe(true);
  });
});

describe('Outbox.ack', () => {
  it('is cumulative: removes every sent frame with seq <= n', () => {
    const box = new Outbox(roomy);
    const [a, b, c] = [box.add('emit', 'a', 1), box.add('emit', 'b', 2), box.add('emit', 'c', 3)];
    box.take(0, false);
    box.ack(2);
    expect(box.has(a!)).toBe(false);
    expect(box.has(b!)).toBe(false);
    expect(box.has(c!)).toBe(true);
    expect(box.bytes).toBe(c!.bytes);
    box.ack(1); // a stale, smaller ack changes nothing
    expect(box.size).toBe(1);
    box.ack(3);
    expect(box.size).toBe(0);
    expect(box.bytes).toBe(0);
  });

  it('never removes unsent frames, whatever n says', () => {
    const box = new Outbox(roomy);
    box.add('emit', 'a', 1);
    box.take(0, false);
    const unsent = box.add('emit', 'b', 2);
    box.ack(99);
    expect(box.size).toBe(1);
    expect(box.has(unsent)).toBe(true);
    expect(seqs(box.take(0, false).frames)).toEqual([2]);
  });

  it('does nothing before anything was sent', () => {
    const box = new Outbox(roomy);
    box.add('emit', 'a', 1);
    box.ack(5);
    expect(box.size).toBe(1);
  });
});

describe('Outbox.remove', () => {
  it('removes an unsent entry and frees its bytes; the next one takes its number', () => {
    const box = new Outbox(roomy);
    const a = box.add('req', 'a', 1);
    const b = box.add('emit', 'b', 2);
    expect(box.remove(a)).toBe(true);
    expect(box.has(a)).toBe(false);
    expect(box.bytes).toBe(b.bytes);
    expect(seqs(box.take(0, false).frames)).toEqual([1]);
    expect(b.frame.seq).toBe(1);
  });

  it('refuses to remove a sent entry or one it does not hold', () => {
    const box = new Outbox(roomy);
    const a = box.add('req', 'a', 1);
    box.take(0, false);
    expect(box.remove(a)).toBe(false);
    expect(box.has(a)).toBe(true);
    const stranger = new Outbox(roomy).add('req', 'x', 1);
    expect(box.remove(stranger)).toBe(false);
    expect(box.remove(stranger)).toBe(false);
    expect(box.size).toBe(1);
  });
});

describe('Outbox.renumber', () => {
  it('makes every waiting frame unsent again, counts those that had been sent, and restarts at 1', () => {
    const box = new Outbox(roomy);
    box.add('emit', 'a', 1);
    box.add('emit', 'b', 2);
    box.add('emit', 'c', 3);
    box.take(0, false);
    box.ack(1);
    box.add('emit', 'd', 4); // unsent
    expect(box.renumber()).toBe(2);
    expect(box.take(0, true).frames.map((f) => [f.frame.e, f.frame.seq])).toEqual([
      ['b', 1],
      ['c', 2],
      ['d', 3],
    ]);
  });

  it('drops what the old session accepted (welcome.prevAck) and counts only the sent frames it never saw', () => {
    const box = new Outbox(roomy);
    for (const e of ['a', 'b', 'c', 'd']) box.add('emit', e, 1);
    box.take(0, false); // a..d sent as 1..4; the old session accepted 1..3, its acks lost
    box.add('emit', 'e', 5); // unsent
    expect(box.renumber(3)).toBe(1);
    expect(box.size).toBe(2);
    expect(box.take(0, true).frames.map((f) => [f.frame.e, f.frame.seq])).toEqual([
      ['d', 1],
      ['e', 2],
    ]);
  });

  it('with prevAck 0 re-sends every sent frame; with one past them all, none', () => {
    const none = new Outbox(roomy);
    none.add('emit', 'a', 1);
    none.take(0, false);
    expect(none.renumber(0)).toBe(1);
    const all = new Outbox(roomy);
    all.add('emit', 'a', 1);
    all.add('emit', 'b', 1);
    all.take(0, false);
    expect(all.renumber(2)).toBe(0);
    expect(all.size).toBe(0);
    expect(all.bytes).toBe(0);
  });

  it('returns 0 when nothing had been sent', () => {
    const box = new Outbox(roomy);
    box.add('emit', 'a', 1);
    expect(box.renumber()).toBe(0);
    expect(seqs(box.take(0, false).frames)).toEqual([1]);
  });
});
