import { describe, expect, it } from 'vitest';
import { FIRST_INTERVAL_MS, LAG_LIMIT_MS, MAX_INTERVAL_MS, QUIET_MS, StreamLagMonitor } from '../../src/transports/stream-lag';
import { ManualClock } from '../client/realtime-client/manual-clock';

/** A monitor on a manual clock that records the echoes it asks for and the failure it reports. */
function rig() {
  const clock = new ManualClock();
  const echoes: { n: number; at: number }[] = [];
  const failures: string[] = [];
  const monitor = new StreamLagMonitor({
    now: () => clock.now(),
    after: (callback, ms) => {
      const id = clock.setTimeout(callback, ms);
      return () => clock.clearTimeout(id);
    },
    sendEcho: (n) => echoes.push({ n, at: clock.now() }),
    buffered: (message) => failures.push(message),
  });
  const lastN = (): number => echoes.at(-1)!.n;
  return { clock, echoes, failures, monitor, lastN };
}

/** One check whose echo the stream holds `holdMs` after the POST answer, the stream silent meanwhile. */
async function heldCheck(r: ReturnType<typeof rig>, holdMs: number): Promise<void> {
  const before = r.echoes.length;
  r.monitor.streamFrame(true);
  expect(r.echoes).toHaveLength(before + 1);
  r.monitor.answered(r.lastN());
  await r.clock.advance(holdMs);
  r.monitor.echo(r.lastN());
}

describe('StreamLagMonitor', () => {
  it('a healthy stream: one echo at the first busy frame, none for pings or before the next check is due', async () => {
    const r = rig();
    r.monitor.streamFrame(true); // before start (no welcome yet, or a server without echoes): nothing
    expect(r.echoes).toEqual([]);
    r.monitor.start();
    r.monitor.streamFrame(false); // a ping never starts a check: quiet streams cost nothing
    expect(r.echoes).toEqual([]);
    r.monitor.streamFrame(true);
    r.monitor.streamFrame(true); // one check at a time
    expect(r.echoes.map((e) => e.n)).toEqual([1]);
    r.monitor.answered(1);
    expect(r.clock.delays()).toEqual([LAG_LIMIT_MS]);
    await r.clock.advance(30);
    r.monitor.echo(1);
    expect(r.clock.pending).toBe(0); // the timer went with the check
    expect(r.monitor.recent).toEqual([{ strike: false, lagMs: 30 }]);
    r.clock.jump(FIRST_INTERVAL_MS - 1);
    r.monitor.streamFrame(true);
    expect(r.echoes).toHaveLength(1);
    r.clock.jump(1);
    r.monitor.streamFrame(true);
    expect(r.echoes.map((e) => e.n)).toEqual([1, 2]);
    expect(r.failures).toEqual([]);
  });

  it('an echo that arrives before its POST is answered has no lag, and the late answer arms nothing', () => {
    const r = rig();
    r.monitor.start();
    r.monitor.streamFrame(true);
    r.monitor.echo(1);
    r.monitor.answered(1);
    expect(r.clock.pending).toBe(0);
    expect(r.monitor.recent).toEqual([{ strike: false, lagMs: 0 }]);
  });

  it('healthy checks come 1 s apart, then 2, 4, 8, 16, and at most 30 s apart', () => {
    const r = rig();
    r.monitor.start();
    // A busy stream (a frame every 100 ms) whose echoes come back at once.
    for (let t = 0; t <= 130_000; t += 100) {
      r.monitor.streamFrame(true);
      const last = r.echoes.at(-1);
      if (last && last.at === r.clock.now()) {
        r.monitor.answered(last.n);
        r.monitor.echo(last.n);
      }
      r.clock.jump(100);
    }
    const gaps = r.echoes.slice(1).map((e, i) => e.at - r.echoes[i]!.at);
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 16000, MAX_INTERVAL_MS, MAX_INTERVAL_MS, MAX_INTERVAL_MS]);
    expect(r.clock.pending).toBe(0);
  });

  it('one strike, then healthy checks: no failure; the strike sends the next check at the next busy frame', async () => {
    const r = rig();
    r.monitor.start();
    // Healthy first, so the interval has grown to 2 s.
    await heldCheck(r, 10);
    r.clock.jump(FIRST_INTERVAL_MS);
    await heldCheck(r, 10);
    r.clock.jump(2 * FIRST_INTERVAL_MS);
    await heldCheck(r, 1500);
    expect(r.monitor.recent.at(-1)).toEqual({ strike: true, lagMs: 1500 });
    r.monitor.streamFrame(true); // at once, not 4 s later: the interval was reset
    expect(r.echoes).toHaveLength(4);
    r.monitor.answered(4);
    await r.clock.advance(20);
    r.monitor.echo(4);
    r.clock.jump(FIRST_INTERVAL_MS);
    r.monitor.streamFrame(true); // and it starts over at 1 s
    expect(r.echoes).toHaveLength(5);
    expect(r.failures).toEqual([]);
  });

  it('two strikes among the last three checks fail the stream at the second strike, naming what was measured', async () => {
    const r = rig();
    r.monitor.start();
    await heldCheck(r, 1480);
    await heldCheck(r, 40);
    r.clock.jump(FIRST_INTERVAL_MS);
    r.monitor.streamFrame(true);
    r.monitor.answered(3);
    await r.clock.advance(LAG_LIMIT_MS - 1);
    expect(r.failures).toEqual([]);
    await r.clock.advance(1);
    expect(r.failures).toEqual([
      `stream held echoes back 1480 ms and over ${LAG_LIMIT_MS} ms (still held) after their POST was answered (limit ${LAG_LIMIT_MS} ms): a proxy is buffering it`,
    ]);
    // Done: no timer left, nothing more sent or reported.
    expect(r.clock.pending).toBe(0);
    r.monitor.echo(3);
    r.monitor.streamFrame(true);
    await r.clock.advance(5000);
    expect(r.echoes).toHaveLength(3);
    expect(r.failures).toHaveLength(1);
  });

  it('a strike older than the last three checks is forgotten', async () => {
    const r = rig();
    r.monitor.start();
    await heldCheck(r, 1500);
    await heldCheck(r, 10);
    r.clock.jump(FIRST_INTERVAL_MS);
    await heldCheck(r, 10);
    r.clock.jump(2 * FIRST_INTERVAL_MS);
    await heldCheck(r, 1500);
    expect(r.monitor.recent.map((v) => v.strike)).toEqual([false, false, true]);
    expect(r.failures).toEqual([]);
  });

  it('an echo held while the stream keeps delivering is a backlog, not a strike; it strikes once the stream goes quiet', async () => {
    const r = rig();
    r.monitor.start();
    r.monitor.streamFrame(true);
    r.monitor.answered(1);
    for (let t = 0; t < 3000; t += 100) {
      await r.clock.advance(100);
      r.monitor.streamFrame(true); // frames keep coming; the echo waits behind them
    }
    r.monitor.echo(1);
    expect(r.monitor.recent).toEqual([{ strike: false, lagMs: 3000 }]);
    // Next check: the stream delivers for 2 s more, then stops with the echo still held.
    r.clock.jump(FIRST_INTERVAL_MS);
    r.monitor.streamFrame(true);
    r.monitor.answered(2);
    for (let t = 0; t < 2000; t += 100) {
      await r.clock.advance(100);
      r.monitor.streamFrame(false);
    }
    await r.clock.advance(QUIET_MS - 1);
    expect(r.monitor.recent).toHaveLength(1);
    await r.clock.advance(1);
    expect(r.monitor.recent.at(-1)).toEqual({ strike: true, lagMs: undefined });
    expect(r.failures).toEqual([]);
  });

  it('close() releases the timer; nothing is sent or reported afterwards', async () => {
    const r = rig();
    r.monitor.start();
    r.monitor.streamFrame(true);
    r.monitor.answered(1);
    expect(r.clock.pending).toBe(1);
    r.monitor.close();
    expect(r.clock.pending).toBe(0);
    await r.clock.advance(10_000);
    r.monitor.echo(1);
    r.monitor.streamFrame(true);
    r.monitor.start(); // a closed monitor stays closed
    r.monitor.streamFrame(true);
    expect(r.echoes).toHaveLength(1);
    expect(r.failures).toEqual([]);
    expect(r.clock.pending).toBe(0);
  });

  it('ignores an echo or answer from an old check, or for a number never sent', async () => {
    const r = rig();
    r.monitor.start();
    await heldCheck(r, 1500); // strike; echo 1 arrived late
    r.monitor.streamFrame(true);
    expect(r.lastN()).toBe(2);
    r.monitor.answered(1); // an old answer arms nothing
    expect(r.clock.pending).toBe(0);
    r.monitor.answered(2);
    r.monitor.echo(1); // a duplicate of the old echo does not settle check 2...
    r.monitor.echo(9);
    r.monitor.streamFrame(true);
    expect(r.echoes).toHaveLength(2); // ...so check 2 is still the one outstanding
    await r.clock.advance(LAG_LIMIT_MS);
    expect(r.failures).toHaveLength(1); // and its own timer decides: a second strike
    expect(r.failures[0]).toContain('1500 ms and over 1000 ms');
  });
});
