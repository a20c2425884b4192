// A SessionJournal that records each call and answers `durable` with a promise the test settles (one per turn, as
// the Redis journal does), for the module tests of the session's parts.
import type { SessionJournal } from '../../src/server/session-journal';

export interface RecordingJournal extends SessionJournal {
  /** Every call as [method, ...args], in order. */
  readonly calls: unknown[][];
  /** Settles the pending `durable` promise (the next call gets a new one). */
  settle(ok?: boolean): Promise<void>;
}

export function recordingJournal(overrides: Partial<SessionJournal> = {}): RecordingJournal {
  const calls: unknown[][] = [];
  let pending: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  const record =
    (name: string) =>
    (...args: unknown[]): void => {
      calls.push([name, ...args]);
    };
  const journal: RecordingJournal = {
    calls,
    created: record('created'),
    appended: record('appended'),
    acked: record('acked'),
    accepted: async (...args) => {
      calls.push(['accepted', ...args]);
      return true;
    },
    handled: record('handled'),
    joined: record('joined'),
    rekeyed: record('rekeyed'),
    left: record('left'),
    held: record('held'),
    ended: record('ended'),
    expire: async () => true,
    drained: record('drained'),
    handOver: record('handOver'),
    readInbox: async () => [],
    load: async () => null,
    durable() {
      if (!pending) {
        let resolve!: () => void;
        let reject!: (err: unknown) => void;
        const promise = new Promise<void>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        promise.catch(() => {}); // a test that never looks at a failure must not see it unhandled
        pending = { promise, resolve, reject };
      }
      return pending.promise;
    },
    async settle(ok = true) {
      const p = pending;
      pending = undefined;
      if (ok) p?.resolve();
      else p?.reject(new Error('journal down'));
      await new Promise((r) => setImmediate(r));
    },
    ...overrides,
  };
  return journal;
}
