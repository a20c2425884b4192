/**
 * Abandoned sessions are cheap to make, so what they may hold is bounded: per client (an address range, not an exact
 * address) and for the whole process (a memory budget, oldest let go first), and each counts what it retains.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WelcomeFrame } from '../../src/protocol/frames';
import { HEADERS } from '../../src/protocol/carriers';
import { ReplayBuffer } from '../../src/server/replay-buffer';
import type { Session } from '../../src/server';
import { closeAll, poll, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

describe('maxSessionsPerClient counts address ranges', () => {
  it('every address of one IPv6 /64 is one client', async () => {
    const s = await startServer({ maxSessionsPerClient: 3, trustProxy: true });
    const from = (address: string) => poll(s.base, { v: 1 }, { headers: { 'X-Forwarded-For': address } });
    for (let i = 1; i <= 3; i++) expect((await from(`2001:db8:7:7::${i}`)).status).toBe(200);
    const refused = await from('2001:db8:7:7:abcd::99');
    expect(refused.status).toBe(429);
    expect(refused.frames[0]).toMatchObject({ code: 'rate_limited' });
    expect((await from('2001:db8:7:8::1')).status).toBe(200); // the next /64 is another client
  });

  it('with clientAddressPrefix.ipv4 = 24, every address of one IPv4 /24 is one client', async () => {
    const s = await startServer({ maxSessionsPerClient: 2, trustProxy: true, clientAddressPrefix: { ipv4: 24 } });
    const from = (address: string) => poll(s.base, { v: 1 }, { headers: { 'X-Forwarded-For': address } });
    expect((await from('198.51.100.1')).status).toBe(200);
    expect((await from('198.51.100.2')).status).toBe(200);
    expect((await from('198.51.100.3')).status).toBe(429);
    expect((await from('198.51.101.3')).status).toBe(200);
  });
});

describe('sessionsMaxBytes', () => {
  it('lets the sessions abandoned longest ago go once those waiting hold more than the budget; they resync, the others resume', async () => {
    const budget = 256 * 1024;
    const s = await startServer({ sessionsMaxBytes: budget, sessionGraceMs: 60_000 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    const welcomes: WelcomeFrame[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await WsClient.open(s.base);
      welcomes.push(await c.welcome());
      c.close();
      await c.closed;
    }
    await waitFor(() => sessions.length === 20 && sessions.every((x) => x.transport === null), 3000, 'twenty abandoned sessions');
    expect(s.rt.sessions).toBe(20);
    // 400 broadcasts of ~200 bytes: ~96 KB more for each of the twenty, far over the budget together.
    for (let i = 0; i < 400; i++) s.rt.emit('news', { i, pad: 'n'.repeat(160) });
    await waitFor(() => s.rt.sessions < 20, 3000, 'evictions');
    const kept = sessions.filter((x) => !x.ended);
    expect(kept.reduce((sum, x) => sum + x.retainedBytes, 0)).toBeLessThanOrEqual(budget);
    expect(kept.length).toBeGreaterThan(0);
    // The oldest went first.
    expect(sessions.slice(0, 20 - kept.length).every((x) => x.ended)).toBe(true);
    expect(JSON.stringify(s.logger.warnings)).toContain('sessionsMaxBytes');

    const resume = (w: WelcomeFrame) => poll(s.base, { v: 1, sid: w.sid, last: 0 }, { headers: { [HEADERS.secret]: w.secret } });
    expect((await resume(welcomes[0]!)).frames[0]).toMatchObject({ t: 'welcome', resumed: false, resumeFailed: 'expired' });
    const newest = await resume(welcomes[19]!);
    expect(newest.frames[0]).toMatchObject({ t: 'welcome', resumed: true, sid: welcomes[19]!.sid });
    expect(newest.frames.filter((f) => f.t === 'msg')).toHaveLength(400);
  });
});

describe('sessionsMaxBytes and polling clients that stop polling', () => {
  it('counts a polling session with no poll held as waiting (with its queue): the idle ones go first, a client that polls keeps everything', async () => {
    const budget = 256 * 1024;
    const s = await startServer({ sessionsMaxBytes: budget, heartbeatMs: 60_000, sessionGraceMs: 60_000 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    // Twenty handshakes over polling that never poll again: their connections stay attached (no idle cut in a minute).
    for (let i = 0; i < 20; i++) expect((await poll(s.base, { v: 1 })).status).toBe(200);
    // One client that keeps polling throughout.
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const got: number[] = [];
    let stop = false;
    const polling = (async () => {
      let last = 0;
      while (!stop) {
        const r = await poll(s.base, { v: 1, sid: w.sid, cid: w.cid, last }, { headers: { [HEADERS.secret]: w.secret } });
        for (const f of r.frames) {
          if (f.t === 'msg') {
            got.push((f.d as { i: number }).i);
            last = f.id;
          }
        }
        if (r.status !== 200) break;
      }
    })();
    await waitFor(() => sessions.length === 21, 3000);
    for (let i = 1; i <= 400; i++) {
      s.rt.emit('news', { i, pad: 'n'.repeat(160) });
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5)); // the poller takes its share as it comes
    }
    await waitFor(() => got.length === 400, 5000, 'the poller to get every broadcast');
    stop = true;
    s.rt.emit('news', { i: 401 }); // ends the held poll
    await polling;
    const idle = sessions.slice(0, 20);
    expect(idle.filter((x) => x.ended).length).toBeGreaterThan(0);
    expect(sessions[20]!.ended).toBe(false);
    expect(got.filter((i) => i <= 400)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const waiting = idle.filter((x) => !x.ended);
    expect(waiting.reduce((sum, x) => sum + x.retainedBytes, 0)).toBeLessThanOrEqual(budget);
  });
});

describe('sessionsMaxBytes and connected clients that never acknowledge', () => {
  it('lets the silent ones go first; a client that acknowledges keeps its session and everything', async () => {
    // 21 sessions cost 172 KB before any frame: the budget is passed only after some broadcasts, by which time the
    // client that acknowledges has made progress and the silent ones have not.
    const budget = 512 * 1024;
    const s = await startServer({ sessionsMaxBytes: budget, heartbeatMs: 60_000 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    // The client that acknowledges came first: its session is the oldest, yet it is the one that stays.
    const good = await WsClient.open(s.base);
    await good.welcome();
    const silent: WsClient[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await WsClient.open(s.base); // reads (its socket keeps up) but never acknowledges
      await c.welcome();
      silent.push(c);
    }
    await waitFor(() => sessions.length === 21);
    let acked = 0;
    const acking = setInterval(() => {
      const last = good.frames.all.filter((f) => f.t === 'msg').at(-1);
      if (last && last.t === 'msg' && last.id > acked) good.send({ t: 'ack', id: (acked = last.id) });
    }, 5);
    try {
      for (let i = 1; i <= 400; i++) {
        s.rt.emit('news', { i, pad: 'n'.repeat(160) });
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
      }
      await waitFor(() => good.frames.all.filter((f) => f.t === 'msg').length === 400, 5000, 'the good client to get every broadcast');
    } finally {
      clearInterval(acking);
    }
    expect(sessions[0]!.ended).toBe(false);
    expect(sessions.slice(1).filter((x) => x.ended).length).toBeGreaterThan(0);
    const ids = good.frames.all.flatMap((f) => (f.t === 'msg' ? [(f.d as { i: number }).i] : []));
    expect(ids).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const closed = await Promise.race([silent[0]!.closed, new Promise((r) => setTimeout(() => r('open'), 2000))]);
    expect(closed).toMatchObject({ code: 1000 });
  });
});

describe('the replay buffer counts what it retains', () => {
  it('keeps a frame text, not its payload object', () => {
    const buffer = new ReplayBuffer(10, 10 * 1024 * 1024);
    const big = { blob: 'b'.repeat(1024 * 1024) };
    buffer.push({ t: 'reply', id: 1, re: 4, d: big }, JSON.stringify({ t: 'reply', id: 1, re: 4, d: big }));
    const [held] = buffer.after(0)!;
    expect(held!.frame).toEqual({ t: 'reply', id: 1, re: 4 });
    expect(held!.text.length).toBeGreaterThan(1024 * 1024);
    expect(buffer.retained).toBeGreaterThan(1024 * 1024);
    expect(buffer.retained).toBeLessThan(1024 * 1024 + 1024);
  });
});
