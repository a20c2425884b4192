import { describe, expect, it } from 'vitest';
import { createElection, type Election } from '../../../src/client/share/election';
import { localLocks } from '../../../src/client/share/local-platform';

/** Lets granted callbacks and released locks run (each takes a task of its own, as in browsers). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** `count` tabs in one group; `log` records who leads and follows, in order. */
function tabs(count: number) {
  const locks = localLocks();
  const log: string[] = [];
  const elections: Election[] = [];
  for (let i = 0; i < count; i++) {
    elections.push(createElection(locks, 'group', { lead: () => log.push(`${i} leads`), follow: () => log.push(`${i} follows`) }));
  }
  return { locks, log, elections };
}

describe('election by one Web Lock (in-memory lock manager)', () => {
  it('the first tab leads; the others wait in line', async () => {
    const { log, elections } = tabs(3);
    await settle();
    expect(log).toEqual(['0 leads']);
    expect(elections.map((e) => e.leading)).toEqual([true, false, false]);
  });

  it('when the leader leaves, the next in line leads, once', async () => {
    const { log, elections } = tabs(3);
    await settle();
    elections[0]!.close();
    await settle();
    expect(log).toEqual(['0 leads', '1 leads']);
    elections[1]!.close();
    await settle();
    expect(log).toEqual(['0 leads', '1 leads', '2 leads']);
  });

  it('a release passes the lock on and puts the tab at the back of the line', async () => {
    const { log, elections } = tabs(2);
    await settle();
    elections[0]!.release();
    await settle();
    expect(log).toEqual(['0 leads', '0 follows', '1 leads']);
    elections[1]!.release();
    await settle();
    expect(log.slice(3)).toEqual(['1 follows', '0 leads']);
  });

  it('nothing takes the lock from its holder: a tab that asked later waits, however often others give up', async () => {
    const { log, elections, locks } = tabs(3);
    await settle();
    elections[1]!.close();
    await settle();
    expect(log).toEqual(['0 leads']);
    expect(locks.held()).toBe(1);
    expect(elections.map((e) => e.leading)).toEqual([true, false, false]);
  });

  it('an ifAvailable request for a held lock gets null at once; for a free one the lock', async () => {
    const locks = localLocks();
    void locks.request('a', {}, () => new Promise(() => {}));
    await settle();
    const held = await locks.request('a', { ifAvailable: true }, async (lock) => lock);
    const free = await locks.request('b', { ifAvailable: true }, async (lock) => lock);
    expect(held).toBeNull();
    expect(free).not.toBeNull();
  });

  it('a closed tab leaves the line without ever leading', async () => {
    const { log, elections } = tabs(3);
    await settle();
    elections[1]!.close();
    elections[0]!.close();
    await settle();
    expect(log).toEqual(['0 leads', '2 leads']);
  });
});
