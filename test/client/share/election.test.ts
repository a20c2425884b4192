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

  it('a steal takes the lock at once; the old holder follows and lines up again; never two leaders', async () => {
    const { log, elections } = tabs(3);
    await settle();
    elections[2]!.steal();
    await settle();
    // The old holder's follow and the new one's lead come in either order (they are separate tasks).
    expect(log.slice(0, 1)).toEqual(['0 leads']);
    expect(log.slice(1).sort()).toEqual(['0 follows', '2 leads']);
    expect(elections.map((e) => e.leading)).toEqual([false, false, true]);
    // Tab 2 left the line when it stole: when it leaves, tab 1 (first in line) leads, then tab 0.
    elections[2]!.close();
    await settle();
    expect(log.slice(3)).toEqual(['1 leads']);
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
