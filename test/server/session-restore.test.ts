import { describe, expect, it } from 'vitest';
import type { Bus, CatchUpOutcome } from '../../src/server/bus';
import { Session } from '../../src/server/session';
import { SessionRestore, type RestoreHost } from '../../src/server/session-restore';
import type { SessionJournal, SessionSnapshot } from '../../src/server/session-journal';
import { MemorySessionStore } from '../../src/server/session-store';
import type { Logger } from '../../src/server/types';
import { recordingJournal } from './journal-fake';

const quiet: Logger = { debug: () => {}, warn: () => {}, error: () => {} };
const LIMITS = { maxMessages: 100, maxBytes: 1 << 20 };

function snapshotOf(id: string, secret: string, extra: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return { id, secret, auth: true, lastId: 0, accepted: 0, floor: 0, frames: [], rooms: [], ...extra };
}

/** A SessionRestore over a memory store and a fake journal; `adopt` makes a real Session of the snapshot. */
function restoreWith(journal: SessionJournal, bus: Bus = { publish: () => {} } as unknown as Bus) {
  const store = new MemorySessionStore();
  const log: string[] = [];
  const newSession = (snapshot?: SessionSnapshot) =>
    new Session({ publish: () => {}, onConnectionChange: () => {}, logger: quiet, journal }, LIMITS, snapshot);
  const host: RestoreHost = {
    store,
    journal,
    bus,
    logger: quiet,
    resumes: { recall: async (sid) => void log.push(`recall ${sid}`) },
    adopt: (snapshot, client) => {
      const s = newSession(snapshot);
      store.set(s);
      log.push(`adopt ${s.id} ${client}`);
      return s;
    },
    expire: (s) => log.push(`expire ${s.id}`),
    drop: (s, code) => {
      store.delete(s.id);
      log.push(`drop ${s.id} ${code}`);
    },
  };
  return { restore: new SessionRestore(host), store, log, newSession };
}

describe('SessionRestore', () => {
  it('a handshake without a session id restores nothing', async () => {
    const { restore, log } = restoreWith(recordingJournal());
    expect(await restore.restore({ last: 0 }, 'c')).toBe(true);
    expect(log).toEqual([]);
  });

  it('takes the session over by its secret, then restores it from the journal', async () => {
    const asked: unknown[][] = [];
    const journal = recordingJournal({ load: async (...args) => (asked.push(args), snapshotOf('s1', 'k1', { accepted: 3 })) });
    const { restore, store, log } = restoreWith(journal);
    expect(await restore.restore({ sid: 's1', secret: 'k1', last: 0 }, '10.0.0.1')).toBe(true);
    expect(asked).toEqual([['s1', 'k1']]);
    expect(log).toEqual(['adopt s1 10.0.0.1']);
    expect(store.get('s1')?.accepted).toBe(3);
    // A probe reads without taking the session over: the live connection keeps it until the upgrade.
    await restoreWith(journal).restore.restore({ sid: 's1', secret: 'k1', last: 0 }, undefined, true);
    expect(asked[1]).toEqual(['s1', undefined]);
  });

  it('an unknown session is looked up among the ended ones; an unreachable journal refuses for now', async () => {
    const { restore, log } = restoreWith(recordingJournal());
    expect(await restore.restore({ sid: 'gone', secret: 'k', last: 0 }, 'c')).toBe(true);
    expect(log).toEqual(['recall gone']);
    const down = restoreWith(recordingJournal({ load: () => Promise.reject(new Error('down')) }));
    expect(await down.restore.restore({ sid: 's1', secret: 'k', last: 0 }, 'c')).toBe(false);
    expect(down.log).toEqual([]);
  });

  it('a copy here that knows the secret and can replay is resumed as it is, without reading the journal', async () => {
    let loads = 0;
    const journal = recordingJournal({ load: async () => (loads++, null) });
    const { restore, store, newSession } = restoreWith(journal);
    const local = newSession();
    store.set(local);
    expect(await restore.restore({ sid: local.id, secret: local.secret, last: 0 }, 'c')).toBe(true);
    expect(loads).toBe(0);
  });

  /** A copy of a session held here, and a journal whose record of it has `secret` (the copy's own: undefined). */
  function copyHere(secret?: string) {
    let stored: SessionSnapshot | null = null;
    const journal = recordingJournal({ load: async () => stored });
    const r = restoreWith(journal);
    const local = r.newSession();
    r.store.set(local);
    stored = snapshotOf(local.id, secret ?? local.secret);
    /** Resumes with `presented` once what the copy wrote is durable (or refused), as restore waits for. */
    const resume = async (presented: string) => {
      const pending = r.restore.restore({ sid: local.id, secret: presented, last: 0 }, 'c');
      await journal.settle();
      return pending;
    };
    return { ...r, local, resume };
  }

  it('a copy whose secret was rotated elsewhere is dropped and the session restored from the journal', async () => {
    const { local, resume, log, store } = copyHere('rotated-elsewhere');
    expect(await resume('rotated-elsewhere')).toBe(true);
    expect(log).toEqual([`drop ${local.id} replaced`, `adopt ${local.id} c`]);
    expect(store.get(local.id)).not.toBe(local);
  });

  it('a secret neither the copy here nor the journal knows is just wrong: the copy stays', async () => {
    const { local, resume, log, store } = copyHere();
    expect(await resume('wrong')).toBe(true);
    expect(log).toEqual([]);
    expect(store.get(local.id)).toBe(local);
  });

  it('hands a restored session the bus events it missed; events gone from the bus end it, an unreadable bus refuses', async () => {
    const journal = recordingJournal({ load: async () => snapshotOf('s1', 'k', { busPosition: '5-0' }) });
    const caughtUpFrom: string[] = [];
    const bus = (outcome: CatchUpOutcome | Error) =>
      ({
        publish: () => {},
        catchUp: async (from: string) => {
          caughtUpFrom.push(from);
          if (outcome instanceof Error) throw outcome;
          return outcome;
        },
      }) as unknown as Bus;
    const ok = restoreWith(journal, bus('caught_up'));
    expect(await ok.restore.restore({ sid: 's1', secret: 'k', last: 0 }, 'c')).toBe(true);
    expect(caughtUpFrom).toEqual(['5-0']);
    expect(ok.store.get('s1')?.catchingUp).toBe(false);
    const gap = restoreWith(journal, bus('gap'));
    expect(await gap.restore.restore({ sid: 's1', secret: 'k', last: 0 }, 'c')).toBe(true);
    expect(gap.log).toEqual(['adopt s1 c', 'expire s1']);
    const broken = restoreWith(journal, bus(new Error('bus down')));
    expect(await broken.restore.restore({ sid: 's1', secret: 'k', last: 0 }, 'c')).toBe(false);
    expect(broken.log).toEqual(['adopt s1 c', 'drop s1 shutdown']);
  });
});
