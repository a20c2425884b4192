/**
 * A polling connection holds no more than `maxBufferedBytes` for a client that stops polling, and no answer for a
 * client that never reads it: both are cut (with a warning) and the session waits for a resume from its replay buffer.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientFrame, WelcomeFrame } from '../../src/protocol/frames';
import { HEADERS } from '../../src/protocol/carriers';
import type { Session } from '../../src/server';
import { closeAll, poll, post, qs, startServer, waitFor } from './helpers';

afterEach(closeAll);

const echoes = (count: number, from = 1): ClientFrame[] => Array.from({ length: count }, (_, i) => ({ t: 'echo', n: from + i }) as ClientFrame);

describe('a polling client that stops polling', () => {
  it('is cut once its queue passes maxBufferedBytes, however many frames it asks the server to answer', async () => {
    // maxBufferedBytes is raised to 4 frames of the largest message: small messages keep it at 64 KiB.
    const s = await startServer({ maxBufferedBytes: 64 * 1024, maxMessageBytes: 16 * 1024, heartbeatMs: 60_000 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    const hs = await poll(s.base, { v: 1 });
    const w = hs.frames[0] as WelcomeFrame;
    const ids = { sid: w.sid, cid: w.cid };
    const auth = { [HEADERS.secret]: w.secret };
    // Each echo frame is answered on the poll queue (~20 characters): 1,500 per POST (a body holds 4 frames of the
    // largest message), never polled for.
    let gone = 0;
    for (let i = 0; i < 60; i++) {
      const r = await post(s.base, ids, echoes(1500, i * 1500 + 1), auth);
      if (r.status === 410) gone++;
    }
    expect(gone).toBeGreaterThan(0);
    expect(sessions[0]!.transport).toBeNull();
    expect(JSON.stringify(s.logger.warnings)).toContain('polling client is not polling');
    // The session itself lives on: a resume takes it up again.
    const resumed = await poll(s.base, { v: 1, sid: w.sid, last: 0 }, { headers: auth });
    expect(resumed.frames[0]).toMatchObject({ t: 'welcome', sid: w.sid, resumed: true });
  });

  it('a burst larger than the limit while a poll is held goes out in that poll, not cut', async () => {
    const s = await startServer({ maxBufferedBytes: 16 * 1024, heartbeatMs: 60_000 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const held = poll(s.base, { v: 1, sid: w.sid, cid: w.cid, last: 0 }, { headers: { [HEADERS.secret]: w.secret } });
    await waitFor(() => sessions.length === 1);
    await new Promise((r) => setTimeout(r, 50)); // the poll is held
    for (let i = 1; i <= 100; i++) sessions[0]!.emit('big', { i, pad: 'x'.repeat(1000) });
    const answer = await held;
    expect(answer.frames.filter((f) => f.t === 'msg').length).toBeGreaterThan(0);
    expect(sessions[0]!.transport).toBe('polling');
  });
});

describe('a poll whose answer is never read', () => {
  it('is cut after a heartbeat instead of holding the answer for as long as the socket lives', async () => {
    const s = await startServer({ maxBufferedBytes: 64 * 1024 * 1024, maxMessageBytes: 2 * 1024 * 1024, heartbeatMs: 400, sessionGraceMs: 60_000 });
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    await waitFor(() => sessions.length === 1);
    const socket = connect(s.port, '127.0.0.1');
    let received = 0;
    socket.on('data', (d) => (received += d.length));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => {});
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.pause(); // never reads a byte
    const path = `/realtime/poll?${qs({ v: 1, sid: w.sid, cid: w.cid, last: 0 })}`;
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${HEADERS.secret}: ${w.secret}\r\n\r\n`);
    await waitFor(() => sessions[0]!.transport === 'polling', 3000);
    await new Promise((r) => setTimeout(r, 50));
    // 32 MiB of answer: far more than loopback socket buffers take.
    const pad = 'y'.repeat(1024 * 1024);
    for (let i = 0; i < 32; i++) sessions[0]!.emit('big', pad);
    await waitFor(() => JSON.stringify(s.logger.warnings).includes('poll answer not read in time'), 5000, 'the cut');
    socket.resume(); // what the kernel held arrives, then the end: the answer was cut short
    await closed;
    expect(received).toBeLessThan(32 * 1024 * 1024);
  });
});
