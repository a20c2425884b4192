/**
 * A scripted protocol peer built from msw handlers: `ws.link` for WebSocket, a streamed `http.get` for SSE,
 * `http.get`/`http.post` for polling and upstream. It keeps just enough session state (ids, replay, dedup) to
 * check the client's guarantees, and every transport can be told to refuse, stay silent, or answer a status.
 */
import { http, HttpResponse, ws } from 'msw';
import type { ClientFrame, MessageFrame, OutboundFrame, ReplyFrame, ServerFrame, TransportName, WelcomeFrame } from '../../../src/protocol/frames';
import { decodeClientBatch, decodeClientFrame } from '../../../src/protocol/codec';
import { HEADERS, readSubprotocols } from '../../../src/protocol/carriers';
import { fakeEventStream, type HeldUntilEnd } from './fake-event-stream';

/** `held` (WebSocket only): the handshake is taken (a session made or resumed) but every write waits for `releaseWebSocket()`. */
export type Behaviour = 'ok' | 'refuse' | 'silent' | 'held' | { status: number; retryAfter?: number };

interface Conn {
  transport: TransportName;
  cid: string;
  send(frames: ServerFrame[]): void;
  close(): void;
}

interface Session {
  sid: string;
  secret: string;
  out: (MessageFrame | ReplyFrame)[];
  accepted: number;
  acked: number;
  conn: Conn | null;
}

export interface Handshake {
  transport: TransportName;
  /** The parameters as the server reads them: the query, plus the secret, `last` and token from headers or a subprotocol. */
  query: URLSearchParams;
  /** The request's URL as the browser would print it. */
  url: string;
  headers: Headers | null;
}

/**
 * What the real server reads: the query, and the private parameters only where the protocol puts them now (headers
 * for HTTP, a subprotocol for WebSocket), so a client that put them back into a URL fails these tests.
 */
function paramsOf(url: URL, headers: Headers | null, protocols: readonly string[] = []): URLSearchParams {
  const q = new URLSearchParams(url.searchParams);
  q.delete('secret');
  q.delete('access_token');
  const carried = readSubprotocols(protocols);
  if (typeof carried === 'string') throw new Error(carried);
  const secret = carried?.secret ?? headers?.get(HEADERS.secret) ?? null;
  const token = carried?.token ?? headers?.get('authorization')?.replace(/^Bearer /, '') ?? null;
  const last = headers?.get(HEADERS.last) ?? null;
  const join = carried?.join ?? headers?.get(HEADERS.join) ?? null;
  if (join !== null) q.set('join', join);
  if (secret !== null) q.set('secret', secret);
  if (token !== null) q.set('access_token', token);
  if (last !== null) q.set('last', last);
  return q;
}

export class FakeRealtime {
  readonly base: string;
  readonly wsBase: string;
  behaviour: Record<TransportName, Behaviour> = { websocket: 'ok', sse: 'ok', polling: 'ok' };
  /** Heartbeat interval announced in welcome frames. */
  hb = 60_000;
  /** How long a poll is held before it is answered with a ping (real ms). */
  pollHoldMs = 100;
  readonly handshakes: Handshake[] = [];
  /** The URL of every request and WebSocket handshake, as a browser would print it. */
  readonly urls: string[] = [];
  /** Client emits and requests accepted, each once, in order. */
  readonly received: OutboundFrame[] = [];
  /** Client frames that arrived again and were dropped by seq. */
  duplicates = 0;
  /** Reply to a request; default: echo its data. */
  onRequest: (frame: OutboundFrame) => unknown = (frame) => frame.d;
  /** Answer requests at all (false: accept them but never reply). */
  replies = true;
  /** Announce `echo` support in welcomes (the reference server does) and answer echoes on the stream. */
  echo = true;
  /**
   * A buffering proxy in front of SSE: while true, every SSE write is held until `releaseSse()`. Set it after the
   * stream opened to let the welcome through, as a busy stream's welcome gets through a real one.
   */
  bufferSse = false;
  /**
   * A proxy that holds each event stream until it ends: writes wait, and the end lets them all out first, in one read
   * (`'one-read'`), or the welcome in one read and the rest 20 ms later (`'split'`, as a proxy flushing in pieces).
   */
  sseHeldUntilEnd: HeldUntilEnd = false;
  /** Racing handshakes with one join key share the session the first created, as on the reference server (protocol §1). */
  joinRacers = false;
  private readonly joins = new Map<string, Session>();
  /** Called with every echo a client POSTs. */
  onEcho: (n: number) => void = () => {};
  private readonly heldSse: (() => void)[] = [];
  private readonly heldWs: (() => void)[] = [];
  private readonly sessions = new Map<string, Session>();
  private last: Session | null = null;
  private counter = 0;

  constructor(base = 'http://rt.test/realtime') {
    this.base = base;
    this.wsBase = base.replace(/^http/, 'ws');
  }

  get session(): Session | null {
    return this.last;
  }

  /** The current connection's transport, as the server sees it. */
  get activeTransport(): TransportName | null {
    return this.last?.conn?.transport ?? null;
  }

  handshakesOf(transport: TransportName): Handshake[] {
    return this.handshakes.filter((h) => h.transport === transport);
  }

  /** Sends an application event on the current session (kept for replay). */
  push(event: string, data?: unknown): MessageFrame {
    const s = this.requireSession();
    const frame: MessageFrame = { t: 'msg', id: s.out.length + 1, e: event, d: data };
    s.out.push(frame);
    s.conn?.send([frame]);
    return frame;
  }

  /** Sends a raw frame on the current connection (to misbehave on purpose). */
  sendRaw(frame: ServerFrame): void {
    this.requireSession().conn?.send([frame]);
  }

  /** Cuts the current connection, as a network drop would. */
  drop(): void {
    const s = this.requireSession();
    const conn = s.conn;
    s.conn = null;
    conn?.close();
  }

  /** Writes what `held` WebSocket connections were given, in order. */
  releaseWebSocket(): void {
    for (const write of this.heldWs.splice(0)) write();
  }

  /** Writes what the buffering proxy held on the SSE streams, in order (one burst). */
  releaseSse(): void {
    for (const write of this.heldSse.splice(0)) write();
  }

  /** Forgets every session, as a restarted server would. */
  forgetSessions(): void {
    for (const s of this.sessions.values()) {
      s.conn?.close();
      s.conn = null;
    }
    this.sessions.clear();
  }

  handlers() {
    return [this.websocketHandler(), this.sseHandler(), this.pollHandler(), this.sendHandler()];
  }

  private requireSession(): Session {
    if (!this.last) throw new Error('no session yet');
    return this.last;
  }

  private id(prefix: string): string {
    return `${prefix}${++this.counter}`;
  }

  /** Creates or resumes a session; returns the welcome and what to replay. */
  private handshake(q: URLSearchParams, transport: TransportName, conn: Conn, probe: boolean): { welcome: WelcomeFrame; replay: ServerFrame[]; session: Session } {
    const sid = q.get('sid');
    const found = sid ? this.sessions.get(sid) : undefined;
    const base = { t: 'welcome' as const, cid: conn.cid, hb: this.hb, maxFrame: 64 * 1024, ...(this.echo ? { echo: true } : {}) };
    if (found && found.secret === q.get('secret')) {
      for (const [key, s] of this.joins) if (s === found) this.joins.delete(key); // its client has a welcome now
      const last = Number(q.get('last') ?? 0);
      this.last = found;
      if (probe) return { session: found, welcome: { ...base, sid: found.sid, secret: found.secret, resumed: true, probe: true, ack: found.accepted }, replay: [] };
      this.attach(found, conn);
      // Every resume gets a fresh secret, and the old one dies at once (stricter than the real server, which keeps it
      // until the new one is used): a client path that kept the old one fails here.
      found.secret = this.id('secret-');
      const head = found.out.at(-1)?.id ?? 0;
      return { session: found, welcome: { ...base, sid: found.sid, secret: found.secret, resumed: true, ack: found.accepted, head }, replay: found.out.filter((f) => f.id > last) };
    }
    const join = this.joinRacers && !sid ? q.get('join') : null;
    const joined = join === null ? undefined : this.joins.get(join);
    if (joined) {
      this.joins.delete(join!); // one race's worth: a later handshake with the key starts a session of its own
      this.attach(joined, conn);
      return { session: joined, welcome: { ...base, sid: joined.sid, secret: joined.secret, resumed: false, ack: joined.accepted }, replay: [...joined.out] };
    }
    const session: Session = { sid: this.id('sid-'), secret: this.id('secret-'), out: [], accepted: 0, acked: 0, conn: null };
    this.sessions.set(session.sid, session);
    if (join !== null) this.joins.set(join, session);
    this.last = session;
    this.attach(session, conn);
    const welcome: WelcomeFrame = { ...base, sid: session.sid, secret: session.secret, resumed: false, ack: 0 };
    if (sid) welcome.resumeFailed = found ? 'bad_secret' : 'unknown_session';
    void transport;
    return { session, welcome, replay: [] };
  }

  private attach(session: Session, conn: Conn): void {
    const old = session.conn;
    session.conn = conn;
    if (old && old !== conn) {
      old.send([{ t: 'close', code: 'replaced' }]);
      old.close();
    }
  }

  /** Accepts client frames once each; returns the frames to answer with (acks, replies) on the same connection. */
  private receive(session: Session, conn: Conn, frames: ClientFrame[]): void {
    for (const f of frames) {
      if (f.t === 'ack') {
        session.acked = Math.max(session.acked, f.id);
      } else if (f.t === 'echo') {
        this.onEcho(f.n);
        if (this.echo) session.conn?.send([{ t: 'echo', n: f.n }]); // on the stream, like the reference server
      } else if (f.t === 'upgrade') {
        this.attach(session, conn);
        conn.send(session.out.filter((o) => o.id > f.last));
      } else if (f.seq <= session.accepted) {
        this.duplicates++;
      } else if (f.seq === session.accepted + 1) {
        session.accepted = f.seq;
        this.received.push(f);
        if (f.t === 'req' && this.replies) {
          const reply: ReplyFrame = { t: 'reply', id: session.out.length + 1, re: f.seq, d: this.onRequest(f) };
          session.out.push(reply);
          session.conn?.send([reply]);
        }
      }
    }
  }

  private statusFrame(b: { status: number; retryAfter?: number }): ServerFrame {
    const frame: ServerFrame = { t: 'error', code: b.status === 401 ? 'unauthorized' : 'bad_request', message: `refused with ${b.status}`, status: b.status };
    if (b.retryAfter !== undefined) frame.retryAfter = b.retryAfter;
    return frame;
  }

  private websocketHandler() {
    const link = ws.link(`${this.wsBase}/ws`);
    return link.addEventListener('connection', ({ client, info }) => {
      this.urls.push(client.url.toString());
      const q = paramsOf(client.url, null, typeof info.protocols === 'string' ? [info.protocols] : info.protocols);
      this.handshakes.push({ transport: 'websocket', query: q, url: client.url.toString(), headers: null });
      const b = this.behaviour.websocket;
      if (b === 'silent') return;
      if (b === 'refuse') return client.close(1011, 'refused');
      if (typeof b === 'object') {
        client.send(JSON.stringify(this.statusFrame(b)));
        return client.close(4000 + b.status, 'refused');
      }
      let open = true;
      const conn: Conn = {
        transport: 'websocket',
        cid: this.id('cid-'),
        send: (frames) => {
          const write = (): void => {
            if (open) for (const f of frames) client.send(JSON.stringify(f));
          };
          if (b === 'held') this.heldWs.push(write);
          else write();
        },
        close: () => {
          open = false;
          client.close(4000, 'dropped');
        },
      };
      const probe = q.get('probe') === '1';
      const { welcome, replay, session } = this.handshake(q, 'websocket', conn, probe);
      conn.send([welcome, ...replay]);
      client.addEventListener('message', (event) => {
        const decoded = decodeClientFrame(String(event.data));
        if (!decoded.ok) return conn.send([{ t: 'error', code: 'malformed_frame', message: decoded.reason }]);
        this.receive(session, conn, [decoded.frame]);
        if (decoded.frame.t === 'emit' || decoded.frame.t === 'req') conn.send([{ t: 'ack', n: session.accepted }]);
      });
      client.addEventListener('close', () => {
        open = false;
        if (session.conn === conn) session.conn = null;
      });
    });
  }

  private sseHandler() {
    return http.get(`${this.base}/sse`, ({ request }) => {
      this.urls.push(request.url);
      const q = paramsOf(new URL(request.url), request.headers);
      this.handshakes.push({ transport: 'sse', query: q, url: request.url, headers: request.headers });
      const b = this.behaviour.sse;
      if (b === 'refuse') return HttpResponse.error();
      if (typeof b === 'object') {
        const headers: Record<string, string> = {};
        if (b.retryAfter !== undefined) headers['Retry-After'] = String(b.retryAfter);
        return new HttpResponse(`refused with ${b.status}`, { status: b.status, headers });
      }
      const body = fakeEventStream(this.sseHeldUntilEnd);
      const buffered = (release: () => void): void => void this.heldSse.push(release);
      if (b === 'ok') {
        const conn: Conn = {
          transport: 'sse',
          cid: this.id('cid-'),
          send: (frames) => {
            for (const f of frames) body.write(`${f.t === 'msg' || f.t === 'reply' ? `id: ${f.id}\n` : ''}data: ${JSON.stringify(f)}\n\n`, this.bufferSse ? buffered : null);
          },
          close: () => body.close(),
        };
        const { welcome, replay } = this.handshake(q, 'sse', conn, false);
        // Sent after the response starts, like a real stream.
        queueMicrotask(() => conn.send([welcome, ...replay]));
        request.signal.addEventListener('abort', () => body.abort());
      }
      return new HttpResponse(body.stream, { headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' } });
    });
  }

  private pollHandler() {
    const queues = new Map<string, { frames: ServerFrame[]; wake: (() => void) | null; closed: boolean }>();
    return http.get(`${this.base}/poll`, async ({ request }) => {
      this.urls.push(request.url);
      const q = paramsOf(new URL(request.url), request.headers);
      const cid = q.get('cid');
      const b = this.behaviour.polling;
      if (!cid) {
        this.handshakes.push({ transport: 'polling', query: q, url: request.url, headers: request.headers });
        if (b === 'refuse') return HttpResponse.error();
        if (b === 'silent') return new Promise<Response>(() => {});
        if (typeof b === 'object') {
          const headers: Record<string, string> = {};
          if (b.retryAfter !== undefined) headers['Retry-After'] = String(b.retryAfter);
          return HttpResponse.json([this.statusFrame(b)], { status: b.status, headers });
        }
        const newCid = this.id('cid-');
        const queue = { frames: [] as ServerFrame[], wake: null as (() => void) | null, closed: false };
        queues.set(newCid, queue);
        const conn: Conn = {
          transport: 'polling',
          cid: newCid,
          send: (frames) => {
            queue.frames.push(...frames);
            queue.wake?.();
          },
          close: () => {
            queue.closed = true;
            queue.wake?.();
          },
        };
        const { welcome, replay } = this.handshake(q, 'polling', conn, false);
        return HttpResponse.json([welcome, ...replay]);
      }
      const queue = queues.get(cid);
      const session = this.sessions.get(q.get('sid') ?? '');
      if (!queue || !session || queue.closed || session.conn?.cid !== cid || session.secret !== q.get('secret')) return HttpResponse.json([{ t: 'close', code: 'replaced' }], { status: 410 });
      session.acked = Math.max(session.acked, Number(q.get('last') ?? 0));
      if (queue.frames.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollHoldMs);
          queue.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        queue.wake = null;
      }
      if (queue.closed) return HttpResponse.json([{ t: 'close', code: 'replaced' }], { status: 410 });
      const frames = queue.frames.splice(0);
      return HttpResponse.json(frames.length > 0 ? frames : [{ t: 'ping' }]);
    });
  }

  private sendHandler() {
    return http.post(`${this.base}/send`, async ({ request }) => {
      this.urls.push(request.url);
      const q = paramsOf(new URL(request.url), request.headers);
      const session = this.sessions.get(q.get('sid') ?? '');
      if (!session || session.secret !== q.get('secret') || session.conn?.cid !== q.get('cid')) {
        return HttpResponse.json([{ t: 'error', code: 'bad_request', message: 'gone', status: 410 }], { status: 410 });
      }
      const decoded = decodeClientBatch(await request.text());
      if (!decoded.ok) return HttpResponse.json([{ t: 'error', code: 'malformed_frame', message: decoded.reason, status: 400 }], { status: 400 });
      this.receive(session, session.conn, decoded.frame);
      return HttpResponse.json([{ t: 'ack', n: session.accepted }]);
    });
  }
}
