import { describe, expect, it } from 'vitest';
import type { SequencedFrame } from '../../src/protocol/frames';
import { RealtimeServerError } from '../../src/server/errors';
import { PreparedMessage } from '../../src/server/prepared-message';
import { SessionOutbox, type OutboxHost } from '../../src/server/session-outbox';
import type { SessionJournal } from '../../src/server/session-journal';
import type { Logger } from '../../src/server/types';
import { recordingJournal } from './journal-fake';

const WIDE = { maxMessages: 100, maxBytes: 1 << 20 };

function outbox(opts: { journal?: SessionJournal; maxMessageBytes?: number; limits?: typeof WIDE } = {}) {
  let state: ReturnType<OutboxHost['state']> = 'live';
  const delivered: [SequencedFrame, string][] = [];
  const errors: string[] = [];
  const logger: Logger = { debug: () => {}, warn: () => {}, error: (m) => errors.push(m) };
  let caughtUp = 0;
  const host: OutboxHost = {
    sid: 's1',
    logger,
    maxMessageBytes: opts.maxMessageBytes,
    journal: opts.journal,
    state: () => state,
    deliver: (frame, text) => delivered.push([frame, text]),
    caughtUp: () => caughtUp++,
  };
  const box = new SessionOutbox(host, opts.limits ?? WIDE);
  return { box, delivered, errors, caughtUps: () => caughtUp, setState: (s: typeof state) => (state = s) };
}

describe('SessionOutbox', () => {
  it('numbers frames 1, 2, 3…, holds them until acknowledged, and delivers each with its text', () => {
    const { box, delivered } = outbox();
    box.emit('a', { n: 1 });
    box.emit('b');
    expect(delivered.map(([f, text]) => [f.id, text])).toEqual([
      [1, '{"t":"msg","id":1,"e":"a","d":{"n":1}}'],
      [2, '{"t":"msg","id":2,"e":"b"}'],
    ]);
    expect([box.next, box.size]).toEqual([3, 2]);
    expect(box.after(1)?.map((f) => f.frame.id)).toEqual([2]); // and acknowledges 1
    expect(box.size).toBe(1);
    box.ack(99); // never past the last id numbered
    expect(box.size).toBe(0);
    expect(box.canReplay(2)).toBe(true);
  });

  it('a frame JSON cannot carry, or one over maxMessageBytes, throws and uses no id', () => {
    const { box, delivered } = outbox({ maxMessageBytes: 64 });
    expect(() => box.emit('big', 'x'.repeat(100))).toThrow(RealtimeServerError);
    expect(() => box.emit('cyclic', { self: globalThis })).toThrow(RealtimeServerError);
    box.emit('ok');
    expect(delivered.map(([f]) => f.id)).toEqual([1]);
  });

  it('tells the journal what it numbers and how far the client acknowledged, each ack once', () => {
    const journal = recordingJournal();
    const { box } = outbox({ journal });
    box.emit('a');
    box.emitPrepared(new PreparedMessage('fan', 1));
    box.ack(1);
    box.ack(1);
    box.ack(0);
    const calls = journal.calls.map(([name, , frame]) => (name === 'appended' ? `appended ${(frame as SequencedFrame).id}` : `${String(name)} ${String(frame)}`));
    expect(calls).toEqual(['appended 1', 'appended 2', 'acked 1']);
    const fannedOut = journal.calls[1]![4];
    expect(fannedOut).toMatchObject({ prefix: expect.any(String), suffix: expect.any(String) });
  });

  it('reports when the client caught up: the first frame held, and every ack that released frames', () => {
    const { box, caughtUps } = outbox();
    box.emit('a');
    box.emit('b');
    expect(caughtUps()).toBe(1);
    box.ack(1);
    box.ack(1);
    expect(caughtUps()).toBe(2);
  });

  it('let go: frames go to the journal unnumbered for the next carrier; fan-out and inbox entries stay behind', () => {
    const journal = recordingJournal();
    const { box, delivered, setState } = outbox({ journal });
    setState('letGo');
    box.emit('late', 1);
    box.emitPrepared(new PreparedMessage('fan', 1));
    box.fromInbox(['{"t":"msg","e":"x"}']);
    expect(delivered).toEqual([]);
    expect(journal.calls).toEqual([['handOver', 's1', { t: 'msg', id: 0, e: 'late', d: 1 }]]);
    expect(box.next).toBe(1);
  });

  it('ended: everything is dropped', () => {
    const journal = recordingJournal();
    const { box, delivered, setState } = outbox({ journal });
    setState('ended');
    box.emit('late');
    box.send({ t: 'reply', id: 0, re: 1, d: 'x' });
    expect([delivered, journal.calls, box.next]).toEqual([[], [], 1]);
  });

  it('numbers inbox entries in order, skips an unreadable one with an error event, and tells the journal how many it drained', () => {
    const journal = recordingJournal();
    const { box, delivered, errors } = outbox({ journal });
    box.fromInbox(['{"t":"msg","e":"a"}', 'not json', '{"t":"reply","re":3,"d":true}']);
    expect(delivered.map(([, text]) => JSON.parse(text) as unknown)).toEqual([
      { t: 'msg', id: 1, e: 'a' },
      { t: 'msg', id: 2, e: 'error', d: 'unreadable inbox entry' },
      { t: 'reply', id: 3, re: 3, d: true },
    ]);
    expect(errors).toEqual(['unreadable inbox entry skipped']);
    expect(journal.calls.at(-1)).toEqual(['drained', 's1', 3]);
  });

  it('continues a restored session: ids after its last, held frames above its floor', () => {
    const frames = [1, 2, 3].map((id) => ({ frame: { t: 'msg', id, e: 'm' } as SequencedFrame, text: `{"t":"msg","id":${id},"e":"m"}` }));
    const snapshot = { id: 's1', secret: 'x', auth: true, lastId: 3, accepted: 0, floor: 1, frames, rooms: [] };
    const host = { sid: 's1', logger: console, state: () => 'live' as const, deliver: () => {}, caughtUp: () => {} };
    const box = new SessionOutbox(host, WIDE, snapshot);
    expect([box.next, box.size]).toEqual([4, 2]);
    expect(box.canReplay(0)).toBe(false);
    expect(box.after(1)?.map((f) => f.frame.id)).toEqual([2, 3]);
  });
});
