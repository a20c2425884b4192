/**
 * The server with a session journal (what an adapter provides), here an in-memory fake that can hold, fail or
 * refuse: nothing reaches a client before it is durable, a new process restores sessions from the journal, and a
 * journal that fails never costs a message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SequencedFrame } from '../../src/protocol/frames';
import type { RealtimeAdapter, SessionJournal, SessionSecrets, SessionSnapshot } from '../../src/server';
import { closeAll, isType, poll, qs, sleep, SseClient, startServer, WsClient } from './helpers';

afterEach(closeAll);

/** Keeps snapshots as a real store would; `hold()` stalls durability until `flush()`, `failNext` / `loadFails` fail. */
class FakeJournal implements SessionJournal {
  readonly sessions = new Map<string, SessionSnapshot>();
  failNext = false;
  loadFails = false;
  private stalled: (() => void)[] | null = null;

  adapter(): RealtimeAdapter {
    return { open: () => ({ journal: this }), close: async () => {} };
  }
  hold(): void {
    this.stalled ??= [];
  }
  flush(): void {
    const waiting = this.stalled ?? [];
    this.stalled = null;
    for (const resolve of waiting) resolve();
  }

  created(s: Pick<SessionSnapshot, 'id' | 'secret' | 'auth'>): void {
    this.sessions.set(s.id, { ...s, lastId: 0, accepted: 0, floor: 0, frames: [], rooms: [] });
  }
  appended(sid: string, frame: SequencedFrame, text: string): void {
    const s = this.sessions.get(sid)!;
    s.frames.push({ frame, text });
    s.lastId = frame.id;
  }
  acked(sid: string, id: number): void {
    const s = this.sessions.get(sid)!;
    s.frames = s.frames.filter((f) => f.frame.id > id);
    s.floor = Math.max(s.floor, id);
  }
  accepted(sid: string, seq: number): Promise<boolean> {
    this.sessions.get(sid)!.accepted = seq;
    return this.durable().then(() => true);
  }
  joined(sid: string, room: string): void {
    this.sessions.get(sid)!.rooms.push(room);
  }
  rekeyed(sid: string, _expected: string, secrets: SessionSecrets): void {
    const s = this.sessions.get(sid)!;
    s.secret = secrets.secret;
    if (secrets.previous === null) delete s.previousSecret;
    else s.previousSecret = secrets.previous;
  }
  left(sid: string, room: string): void {
    const s = this.sessions.get(sid)!;
    s.rooms = s.rooms.filter((r) => r !== room);
  }
  readonly holds: Record<string, string | null> = {};
  held(sid: string, cid: string | null): void {
    this.holds[sid] = cid;
  }
  async expire(sid: string): Promise<boolean> {
    this.sessions.delete(sid);
    return true;
  }
  drained(): void {}
  readonly handedOver: SequencedFrame[] = [];
  handOver(_sid: string, frame: SequencedFrame): void {
    this.handedOver.push(frame);
  }
  async readInbox(): Promise<string[]> {
    return [];
  }
  ended(sid: string): void {
    this.sessions.delete(sid);
  }
  durable(): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('store write failed'));
    }
    if (this.stalled) return new Promise((resolve) => this.stalled!.push(resolve));
    return Promise.resolve();
  }
  async load(sid: string): Promise<SessionSnapshot | null> {
    if (this.loadFails) throw new Error('store unreachable');
    const s = this.sessions.get(sid);
    return s ? structuredClone(s) : null;
  }
}

const wsUrl = (base: string, params: Record<string, string | number> = {}): string => `${base.replace('http', 'ws')}/ws?${qs({ v: 1, ...params })}`;

describe('with a session journal', () => {
  it('lets nothing reach the client before it is durable: welcome, messages, acks', async () => {
    const journal = new FakeJournal();
    const s = await startServer({ adapter: journal.adapter() });
    let session: import('../../src/server').Session | undefined;
    s.rt.on('connection', (x) => (session = x));
    journal.hold();
    const ws = new WsClient(wsUrl(s.base));
    await ws.opened;
    await sleep(100);
    expect(ws.frames.all).toEqual([]);
    journal.flush();
    expect(await ws.welcome()).toMatchObject({ resumed: false });

    journal.hold();
    session!.emit('n', 1);
    ws.send({ t: 'emit', seq: 1, e: 'x' });
    await sleep(100);
    expect(ws.frames.all.map((f) => f.t)).toEqual(['welcome']);
    journal.flush();
    expect(await ws.frames.next(isType('msg'))).toMatchObject({ id: 1, e: 'n', d: 1 });
    expect(await ws.frames.next(isType('ack'))).toEqual({ t: 'ack', n: 1 });
    expect(journal.sessions.get(session!.id)).toMatchObject({ lastId: 1, accepted: 1 });
  });

  it('a new process restores a session from the journal: resumed, replayed after last, handlers run again with restored set', async () => {
    const journal = new FakeJournal();
    const first = await startServer({ adapter: journal.adapter() });
    const disconnects: string[] = [];
    first.rt.on('connection', (x) => {
      x.on('disconnect', (r) => disconnects.push(r));
      x.join('lobby');
      for (let n = 1; n <= 3; n++) x.emit('n', n);
    });
    const a = new WsClient(wsUrl(first.base));
    const w = await a.welcome();
    expect(await a.frames.next((f) => f.t === 'msg' && f.id === 3)).toBeTruthy();
    a.send({ t: 'ack', id: 1 });
    a.send({ t: 'emit', seq: 1, e: 'up', d: 'before' });
    await a.frames.next(isType('ack'));
    await first.rt.close(); // a deploy: the session is let go, not ended
    expect((await a.closed).code).toBe(1001);
    expect(disconnects).toEqual([]);
    expect(journal.sessions.has(w.sid)).toBe(true);

    const second = await startServer({ adapter: journal.adapter() });
    const seen: { restored: boolean; rooms: string[] }[] = [];
    const ups: unknown[] = [];
    second.rt.on('connection', (x) => {
      seen.push({ restored: x.restored, rooms: [...x.rooms] });
      x.on('up', (d, _reply, frame) => void ups.push([d, frame.seq]));
    });
    const b = new WsClient(wsUrl(second.base, { sid: w.sid, secret: w.secret, last: 1 }));
    expect(await b.welcome()).toMatchObject({ sid: w.sid, resumed: true, ack: 1 });
    expect(await b.frames.next(isType('msg'))).toMatchObject({ id: 2 });
    expect(await b.frames.next(isType('msg'))).toMatchObject({ id: 3 });
    expect(seen).toEqual([{ restored: true, rooms: ['lobby'] }]);
    b.send({ t: 'emit', seq: 1, e: 'up', d: 'again' }); // already accepted by the first process: not run twice
    b.send({ t: 'emit', seq: 2, e: 'up', d: 'after' });
    expect(await b.frames.next(isType('ack'))).toEqual({ t: 'ack', n: 2 });
    expect(ups).toEqual([['after', 2]]);
    // A wrong secret still gets nothing of it.
    const thief = new WsClient(wsUrl(second.base, { sid: w.sid, secret: 'x'.repeat(w.secret.length), last: 0 }));
    expect(await thief.welcome()).toMatchObject({ resumed: false, resumeFailed: 'bad_secret' });
  });

  it('a journal write that fails lets the session go (no disconnect, nothing undurable shown); its client resumes from the journal', async () => {
    const journal = new FakeJournal();
    const s = await startServer({ adapter: journal.adapter() });
    const disconnects: string[] = [];
    let session: import('../../src/server').Session | undefined;
    s.rt.on('connection', (x) => {
      session = x;
      x.on('disconnect', (r) => disconnects.push(r));
    });
    const a = new WsClient(wsUrl(s.base));
    const w = await a.welcome();
    journal.failNext = true;
    session!.emit('n', 'lost-with-the-write');
    expect(await a.frames.next(isType('close'))).toEqual({ t: 'close', code: 'shutdown' });
    expect(a.frames.all.filter((f) => f.t === 'msg')).toEqual([]);
    expect(s.rt.sessions).toBe(0);
    expect(disconnects).toEqual([]);
    expect(String(s.logger.errors[0]?.[0])).toContain('session store write failed');

    const b = new WsClient(wsUrl(s.base, { sid: w.sid, secret: w.secret, last: 0 }));
    expect(await b.welcome()).toMatchObject({ sid: w.sid, resumed: true });
  });

  it('a store that cannot be read at a resume: 503 + Retry-After on every transport, not a new session', async () => {
    const journal = new FakeJournal();
    const s = await startServer({ adapter: journal.adapter() });
    journal.loadFails = true;
    const resume = { sid: 'unknown-here', secret: 's', last: 0 };
    const p = await poll(s.base, { v: 1, ...resume });
    expect(p.status).toBe(503);
    expect(p.headers.get('retry-after')).toBe('1');
    expect(p.frames[0]).toMatchObject({ code: 'unavailable', retryAfter: 1 });
    const sse = SseClient.open(s.base, resume);
    expect((await sse.next()).frame).toMatchObject({ code: 'unavailable', status: 503 });
    const ws = new WsClient(wsUrl(s.base, resume));
    expect(await ws.frames.next()).toMatchObject({ code: 'unavailable', retryAfter: 1 });
    expect((await ws.closed).code).toBe(4503);
    expect(s.rt.sessions).toBe(0);
  });
});
