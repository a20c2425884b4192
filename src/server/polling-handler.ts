import type { RequestParams } from './request-params';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloseFrame, ServerFrame } from '../protocol/frames';
import { QUERY } from '../protocol/frames';
import { encodeBatch, encodeFrame } from '../protocol/codec';
import { authenticate, clientAddress, errorFrame, parseCount, parseHandshake, sendError, sendFrames, sendUnavailable, STORE_UNREACHABLE } from './http-util';
import type { ForwardPoll, PollReply } from './adapter';
import { ForwardedResponse } from './forwarded-response';
import type { ResolvedOptions } from './options';
import type { Session } from './session';
import type { Connection } from './types';
import { newConnectionId, type SessionManager } from './session-manager';

/**
 * Answers a poll, and cuts its socket if the answer is not taken by the client within a heartbeat: a client that
 * polls and never reads would otherwise hold its answer in this process for as long as its socket lives.
 */
function sendPollAnswer(req: IncomingMessage, res: ServerResponse, body: string, opts: ResolvedOptions, status = 200): void {
  sendFrames(req, res, status, body, opts.cors);
  // A forwarded poll's response has no socket (undefined): it is answered in full at once.
  if (res.writableFinished !== false || res.destroyed) return;
  const timer = setTimeout(() => {
    opts.logger.warn('poll answer not read in time; socket cut', { pendingBytes: res.writableLength, limitMs: opts.heartbeatMs });
    res.destroy();
  }, opts.heartbeatMs);
  const done = (): void => clearTimeout(timer);
  res.once('finish', done);
  res.once('close', done);
}

interface PendingPoll {
  req: IncomingMessage;
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

/**
 * A long-polling connection: frames queue up until a poll takes them, up to `maxBufferedBytes` (a client that stops
 * polling is cut, as a WebSocket or stream that is not read). Considered dropped when no poll is outstanding for
 * twice the heartbeat.
 */
class PollConnection implements Connection {
  readonly transport = 'polling' as const;
  readonly cid = newConnectionId();
  session: Session | null = null;
  /** Ended by the server; the queued close frame still goes out on the next poll. */
  closed = false;
  private queue: string[] = [];
  /** Characters in `queue` (the strings the process holds for it). */
  private queued = 0;
  /** What the handshake's welcome and replay may queue on top of the limit (bounded by the replay buffer). */
  private allowance = Infinity;
  private pending: PendingPoll | null = null;
  /** A poll was answered in this event-loop turn: the client cannot have polled again yet. */
  private answeredThisTurn = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;

  constructor(
    private readonly opts: ResolvedOptions,
    /** Told when no poll is held (the session waits for its client meanwhile, with what is queued) and when one is. */
    private readonly sessions: Pick<SessionManager, 'pollArrived' | 'pollIdle' | 'pollQueued'>,
    private readonly onGone: (c: PollConnection) => void,
  ) {}

  send(frame: ServerFrame, text = encodeFrame(frame)): void {
    if (this.closed) return;
    this.queue.push(text);
    this.queued += text.length;
    if (!this.pending && this.session) this.sessions.pollQueued(this.session, text.length);
    if (this.queued > this.opts.maxBufferedBytes + this.allowance) {
      // A poll held now takes the burst at once, and the rest of the turn that answered one may queue (as a socket's
      // buffers would take it); otherwise the client is not polling: cut it rather than queue without bound. The
      // session waits for a resume from its replay buffer.
      if (this.pending) return this.answer(this.takeQueue());
      if (!this.answeredThisTurn) return this.cut();
    }
    if (this.pending && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        if (this.pending && this.queue.length > 0) this.answer(this.takeQueue());
      });
    }
  }

  end(frame: CloseFrame): void {
    if (this.closed) return;
    this.closed = true;
    this.session?.detach(this);
    if (this.pending) {
      this.queue.push(encodeFrame(frame));
      return this.answer(this.takeQueue());
    }
    // Only the close frame waits for the next poll (not forever): what was queued is in the replay buffer for
    // whichever connection resumes the session, or of no use to anyone when it ended.
    this.queue = [encodeFrame(frame)];
    this.queued = this.queue[0]!.length;
    this.armIdle();
  }

  /** A poll arrived: answer at once when frames are queued, else hold it up to `hb` ms. */
  poll(req: IncomingMessage, res: ServerResponse): void {
    clearTimeout(this.idleTimer);
    if (this.session) this.sessions.pollArrived(this.session, this);
    if (this.pending) this.answer(`[${encodeFrame(errorFrame('poll_replaced', 'a newer poll replaced this one'))}]`);
    if (this.queue.length > 0 || this.closed) {
      sendPollAnswer(req, res, this.takeQueue(), this.opts);
      this.afterAnswer();
      return;
    }
    const timer = setTimeout(() => this.answer(`[${encodeFrame({ t: 'ping' })}]`), this.opts.heartbeatMs);
    const pending: PendingPoll = { req, res, timer };
    this.pending = pending;
    clearTimeout(this.idleTimer);
    res.on('close', () => {
      if (this.pending !== pending) return;
      clearTimeout(pending.timer);
      this.pending = null;
      this.afterAnswer();
    });
  }

  /** The handshake poll: answered at once with everything queued (welcome, replay); from now on the limit holds. */
  answerNow(req: IncomingMessage, res: ServerResponse): void {
    this.allowance = 0;
    sendPollAnswer(req, res, this.takeQueue(), this.opts);
    this.afterAnswer();
  }

  /** Drops the connection without a close frame (shutdown of the handler). */
  dispose(): void {
    clearTimeout(this.idleTimer);
    if (this.pending) this.answer(this.takeQueue());
    clearTimeout(this.idleTimer);
    this.closed = true;
  }

  private takeQueue(): string {
    const body = `[${this.queue.join(',')}]`;
    this.queue = [];
    this.queued = 0;
    return body;
  }

  private answer(body: string): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    sendPollAnswer(p.req, p.res, body, this.opts);
    this.afterAnswer();
  }

  /** The client stopped polling while frames piled up: drop them and the connection (its next poll gets 410). */
  private cut(): void {
    this.opts.logger.warn('polling client is not polling; connection cut', {
      sid: this.session?.id,
      queuedChars: this.queued,
      limit: this.opts.maxBufferedBytes,
    });
    this.queue = [];
    this.queued = 0;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.session?.detach(this);
    this.onGone(this);
  }

  private afterAnswer(): void {
    if (!this.answeredThisTurn) {
      this.answeredThisTurn = true;
      setImmediate(() => (this.answeredThisTurn = false));
    }
    if (this.closed && this.queue.length === 0) {
      clearTimeout(this.idleTimer);
      this.onGone(this);
      return;
    }
    this.armIdle();
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.pending) return;
    if (this.session) this.sessions.pollIdle(this.session, this, this.queued);
    this.idleTimer = setTimeout(() => {
      this.closed = true;
      this.session?.detach(this);
      this.onGone(this);
    }, this.opts.heartbeatMs * 2);
  }
}

/** `E/poll`: the handshake poll and the held polls that follow it. */
export class PollingHandler {
  private readonly conns = new Map<string, PollConnection>();

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly sessions: SessionManager,
    /** With an adapter: hands a poll to the process holding its connection. */
    private readonly forwardPoll?: ForwardPoll,
  ) {}

  /**
   * A poll another process received for connection `cid` of ours: answered as a local one, through `answer`. The
   * secret is checked here, where the session is, as for a poll received here.
   */
  forwarded(sid: string, secret: string, cid: string, last: number | undefined, answer: (reply: PollReply | null) => void): () => void {
    const conn = this.conns.get(cid);
    if (!conn || conn.session?.id !== sid || !conn.session.checkSecret(secret)) {
      answer(null);
      return () => {};
    }
    if (last !== undefined && !conn.closed) conn.session.ack(last);
    const res = new ForwardedResponse((status, body) => answer({ status, body }));
    conn.poll(ForwardedResponse.request(), res.asResponse());
    return () => res.abort();
  }

  get size(): number {
    return this.conns.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse, params: RequestParams): Promise<void> {
    const cors = this.opts.cors;
    const auth = await authenticate(this.opts, req);
    if (res.destroyed) return;
    if (!auth.ok) return sendError(req, res, 401, 'unauthorized', 'credential missing or refused', cors);
    const url = params.url;
    const cid = url.searchParams.get(QUERY.connection);

    if (!cid) {
      const hs = parseHandshake(params);
      if (!hs.ok) return sendError(req, res, 400, 'bad_request', hs.reason, cors);
      const client = clientAddress(req, this.opts);
      if (!(await this.sessions.restore(hs.params, client))) return sendUnavailable(req, res, cors, STORE_UNREACHABLE);
      if (res.destroyed) return;
      const refused = this.sessions.admit(hs.params, auth.auth, client);
      if (refused) {
        const frame = { ...errorFrame('rate_limited', refused.message, 429), retryAfter: refused.retryAfter };
        return sendFrames(req, res, 429, encodeBatch([frame]), cors, { 'Retry-After': String(refused.retryAfter) });
      }
      const conn = new PollConnection(this.opts, this.sessions, (c) => this.conns.delete(c.cid));
      this.conns.set(conn.cid, conn);
      const session = this.sessions.connect(hs.params, conn, auth.auth, client);
      conn.session = session;
      // With an adapter the welcome and the replay are queued once durable.
      if (!(await session.durable())) return sendUnavailable(req, res, cors, STORE_UNREACHABLE);
      conn.answerNow(req, res);
      return;
    }

    const last = parseCount(params.last);
    if (last === null) return sendError(req, res, 400, 'bad_request', 'last must be a non-negative integer', cors);
    const conn = this.conns.get(cid);
    const session = conn?.session;
    const sid = url.searchParams.get(QUERY.session) ?? '';
    if (!conn && this.forwardPoll) return this.relay(req, res, sid, params.secret ?? '', cid, last);
    if (!conn || !session || session.id !== sid || !session.checkSecret(params.secret ?? '')) {
      return sendError(req, res, 410, 'bad_request', 'connection is no longer active; resume with a new handshake', cors);
    }
    if (last !== undefined && !conn.closed) session.ack(last);
    conn.poll(req, res);
  }

  /** Relays a poll for a connection another process holds (round-robin, no sticky sessions), and its answer back. */
  private async relay(req: IncomingMessage, res: ServerResponse, sid: string, secret: string, cid: string, last: number | undefined): Promise<void> {
    const cors = this.opts.cors;
    const aborted = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const reply = await this.forwardPoll!(sid, secret, cid, last, aborted);
    if (reply === 'gone') return sendError(req, res, 410, 'bad_request', 'connection is no longer active; resume with a new handshake', cors);
    if (reply === 'unavailable') return sendUnavailable(req, res, cors, STORE_UNREACHABLE);
    sendPollAnswer(req, res, reply.body, this.opts, reply.status);
  }

  close(): void {
    for (const c of [...this.conns.values()]) c.dispose();
    this.conns.clear();
  }
}
