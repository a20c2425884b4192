import { describe, expect, it } from 'vitest';
import type { ClientFrame, ReplyFrame, SequencedFrame } from '../../src/protocol/frames';
import { ClientFrameIntake, type IntakeHost } from '../../src/server/client-frame-intake';
import type { RecordedFrame, SessionJournal } from '../../src/server/session-journal';
import type { EventHandler, Logger } from '../../src/server/types';
import { recordingJournal } from './journal-fake';

const quiet: Logger = { debug: () => {}, warn: () => {}, error: () => {} };
const tick = () => new Promise((r) => setImmediate(r));

function intake(opts: { journal?: SessionJournal; handlers?: Record<string, EventHandler>; accepted?: number } = {}) {
  let state: ReturnType<IntakeHost['state']> = 'live';
  const sent: SequencedFrame[] = [];
  const acks: number[] = [];
  const echoes: number[] = [];
  const failures: unknown[] = [];
  let next = 1;
  const host: IntakeHost = {
    sid: 's1',
    logger: quiet,
    journal: opts.journal,
    state: () => state,
    echo: (n) => echoes.push(n),
    handler: (event) => opts.handlers?.[event],
    outbox: {
      get next() {
        return next;
      },
      send: (frame: SequencedFrame) => {
        frame.id = next++;
        sent.push(frame);
      },
      ack: (id: number) => acks.push(id),
    },
    durable: async () => true,
    journalFailed: (err) => failures.push(err),
  };
  const box = new ClientFrameIntake(host, opts.accepted);
  return { box, sent, acks, echoes, failures, setState: (s: typeof state) => (state = s) };
}

const emit = (seq: number, e = 'say', d?: unknown): ClientFrame => ({ t: 'emit', seq, e, ...(d === undefined ? {} : { d }) });
const req = (seq: number, e = 'ask', d?: unknown): ClientFrame => ({ t: 'req', seq, e, ...(d === undefined ? {} : { d }) });

describe('ClientFrameIntake without a journal', () => {
  it('runs the next seq only: a duplicate is re-acked and not run, a gap is dropped', () => {
    const ran: unknown[] = [];
    const { box } = intake({ handlers: { say: (d) => void ran.push(d) } });
    expect(box.receive(emit(1, 'say', 'a'))).toBe('accepted');
    expect(box.receive(emit(1, 'say', 'a again'))).toBe('duplicate');
    expect(box.receive(emit(3, 'say', 'c'))).toBe('gap');
    expect(box.receive(emit(2, 'say', 'b'))).toBe('accepted');
    expect(ran).toEqual(['a', 'b']);
    expect(box.accepted).toBe(2);
  });

  it('passes acks to the outbox and answers echoes; other frames are `other`', () => {
    const { box, acks, echoes } = intake();
    expect(box.receive({ t: 'ack', id: 4 })).toBe('other');
    expect(box.receive({ t: 'echo', n: 7 })).toBe('other');
    expect(box.receive({ t: 'upgrade' } as ClientFrame)).toBe('other');
    expect([acks, echoes, box.accepted]).toEqual([[4], [7], 0]);
  });

  it('answers a request with a sequenced reply; no handler or a reserved name gets no_handler', () => {
    const { box, sent } = intake({ handlers: { ask: (d, reply) => reply({ got: d }), transport: () => {} } });
    box.receive(req(1, 'ask', 5));
    box.receive(req(2, 'missing'));
    box.receive(req(3, 'transport'));
    const replies = sent as ReplyFrame[];
    expect(replies.map((r) => [r.id, r.re])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(replies[0]!.d).toEqual({ got: 5 });
    expect(replies.slice(1).map((r) => r.err?.code)).toEqual(['no_handler', 'no_handler']);
  });

  it('continues the seq of a restored session', () => {
    const { box } = intake({ accepted: 5 });
    expect(box.receive(emit(5))).toBe('duplicate');
    expect(box.receive(emit(6))).toBe('accepted');
  });
});

describe('ClientFrameIntake with a journal', () => {
  it('records a frame before its handler runs, runs it once recorded, and marks it done', async () => {
    const journal = recordingJournal();
    const ran: number[] = [];
    const { box } = intake({ journal, handlers: { say: (_d, _r, f) => void ran.push(f.seq) } });
    expect(box.receive(emit(1, 'say', 'x'))).toBe('accepted');
    expect(ran).toEqual([]);
    expect(journal.calls[0]).toEqual(['accepted', 's1', 1, { seq: 1, t: 'emit', e: 'say', d: 'x' }]);
    await tick();
    expect(ran).toEqual([1]);
    expect(journal.calls.at(-1)).toEqual(['handled', 's1', 1]);
  });

  it('does not run a frame the journal had already (another process accepted it first); a refused record lets go', async () => {
    const ran: number[] = [];
    let answer: Promise<boolean> = Promise.resolve(false);
    const journal = recordingJournal({ accepted: () => answer });
    const { box, failures } = intake({ journal, handlers: { say: (_d, _r, f) => void ran.push(f.seq) } });
    box.receive(emit(1));
    await tick();
    expect(ran).toEqual([]);
    answer = Promise.reject(new Error('moved'));
    box.receive(emit(2));
    await tick();
    expect(ran).toEqual([]);
    expect(failures).toHaveLength(1);
  });

  it('redelivers what a previous holder recorded but did not finish, flagged, unless let go meanwhile', async () => {
    const unfinished: RecordedFrame[] = [
      { seq: 3, t: 'emit', e: 'say', d: 'a' },
      { seq: 4, t: 'req', e: 'say' },
    ];
    const journal = recordingJournal({ unfinished: async () => unfinished });
    const ran: [number, boolean][] = [];
    const live = intake({ journal, accepted: 4, handlers: { say: (_d, reply, f) => (ran.push([f.seq, f.redelivered]), reply?.('ok')) } });
    live.box.redeliver();
    await tick();
    expect(ran).toEqual([
      [3, true],
      [4, true],
    ]);
    expect(live.sent).toHaveLength(1); // the request is answered again

    const gone = intake({ journal, accepted: 4, handlers: { say: () => void ran.push([0, true]) } });
    gone.setState('letGo');
    gone.box.redeliver();
    await tick();
    expect(ran).toHaveLength(2);
  });
});
