import { Heartbeat } from './heartbeat';
import type { RequestParams } from './request-params';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloseFrame, ErrorFrame, ServerFrame } from '../protocol/frames';
import { encodeFrame } from '../protocol/codec';
import { authenticate, clientAddress, corsHeaders, errorFrame, parseHandshake, STORE_UNREACHABLE, unavailableFrame } from './http-util';
import type { ResolvedOptions } from './options';
import type { Connection } from './types';
import { newConnectionId, type SessionManager } from './session-manager';
import { SlowReaderGuard } from './slow-reader';

/**
 * Characters a batch of frames may take in one event: a client reads at most a frame of the largest message in one
 * line (src/protocol/limits.ts), so a batch is held to that too, and to this.
 */
const SSE_EVENT_CHARS = 256 * 1024;

/** One event stream. Sequenced frames carry `id:` so the browser's Last-Event-ID names the last one. */
class SseConnection implements Connection {
  readonly transport = 'sse' as const;
  readonly cid = newConnectionId();
  private ended = false;
  /** Cuts a client that reads slower than it is sent to; what the welcome + replay queued is its allowance. */
  readonly guard: SlowReaderGuard;
  /** Frames sent in this event-loop turn, written as one event a microtask later (see `send`). */
  private batch: { text: string; id: number | undefined }[] | null = null;
  /** Characters in `batch`. */
  private batchLength = 0;
  /** The socket's bytes written when it last held bytes back at a heartbeat (undefined: it held none back). */
  private heldBackAt: number | undefined;
  /** Characters a batch may take: one event line a client reads (see SSE_EVENT_CHARS). */
  private readonly batchChars: number;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: ResolvedOptions,
    private readonly onEnd: (c: SseConnection) => void,
  ) {
    this.batchChars = Math.min(SSE_EVENT_CHARS, opts.maxMessageBytes);
    this.guard = new SlowReaderGuard(opts, () => this.res.writableLength, (why, meta) => {
      this.cut(why === 'slow' ? 'event stream client is not reading fast enough; stream cut' : 'event stream client is not reading; stream cut at the hard bound', meta);
    });
    this.guard.allowance = Infinity;
    res.on('close', () => this.dispose());
    res.on('drain', () => this.guard.check());
  }

  /**
   * The handler's heartbeat: a comment line (for proxies that time out idle streams) and a ping frame. A stream that
   * held bytes back at the previous beat and has passed none of them on since is not being read: cut on time,
   * however little is sent to it (a slow reader still makes progress).
   */
  beat(): void {
    // What the kernel took: a socket's bytesWritten counts what it still holds too.
    const socket = this.res.socket;
    const written = socket ? socket.bytesWritten - socket.writableLength : 0;
    if (this.res.writableLength > 0 && this.heldBackAt === written) return this.cut('event stream client is not reading; stream cut after a heartbeat without progress');
    this.heldBackAt = this.res.writableLength > 0 ? written : undefined;
    this.write(': hb\n\n');
    this.send({ t: 'ping' });
  }

  send(frame: ServerFrame, text = encodeFrame(frame)): void {
    if (this.ended) return;
    // The frames of one turn go out as one event whose data is a JSON array (protocol §4): one event to parse and
    // dispatch instead of one per frame. Its `id:` names the last sequenced frame in it.
    const id = frame.t === 'msg' || frame.t === 'reply' ? frame.id : undefined;
    // A long burst goes out as several events: a client reading the stream holds a whole event in memory, and ours
    // refuses a line longer than a frame of the largest message. A frame that would take a batch past that opens a
    // new one (and a large frame goes alone).
    if (this.batch && this.batchLength + text.length + 3 > this.batchChars) this.flush();
    if (this.batch) {
      this.batch.push({ text, id });
      this.batchLength += text.length + 1;
      return;
    }
    this.batch = [{ text, id }];
    this.batchLength = text.length;
    queueMicrotask(() => this.flush());
  }

  /** Writes the frames batched so far: one frame as itself, several as a JSON array (`batchLength` + 2 characters). */
  flush(): void {
    const batch = this.batch;
    this.batch = null;
    if (!batch) return;
    let lastId: number | undefined;
    for (const b of batch) if (b.id !== undefined) lastId = b.id;
    const data = batch.length === 1 ? batch[0]!.text : `[${batch.map((b) => b.text).join(',')}]`;
    this.write(`${lastId === undefined ? '' : `id: ${lastId}\n`}data: ${data}\n\n`);
  }

  end(frame: CloseFrame): void {
    if (this.ended) return;
    this.send(frame);
    this.flush();
    this.dispose();
    this.res.end();
  }

  get closed(): boolean {
    return this.ended;
  }

  write(chunk: string): void {
    if (this.ended || this.res.writableEnded || this.res.destroyed) return;
    // A client that does not read (fast enough): end the stream rather than buffer without bound.
    this.res.write(chunk);
    this.guard.check();
  }

  /** Ends a stream its client does not read; the session waits for a resume from its replay buffer. */
  private cut(why: string, meta: Record<string, number> = { bufferedBytes: this.res.writableLength }): void {
    this.opts.logger.warn(why, meta);
    this.dispose();
    this.res.destroy();
  }

  private dispose(): void {
    this.guard.dispose();
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
  }
}

/** `E/sse`: the server → client stream. Rejections are reported in-band (an `error` event, then the end). */
export class SseHandler {
  private readonly conns = new Set<SseConnection>();
  private readonly heartbeat: Heartbeat<SseConnection>;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly sessions: SessionManager,
  ) {
    this.heartbeat = new Heartbeat(this.conns, opts.heartbeatMs);
  }

  async handle(req: IncomingMessage, res: ServerResponse, params: RequestParams): Promise<void> {
    const auth = await authenticate(this.opts, req);
    if (res.destroyed) return;
    if (!auth.ok) return this.refuse(req, res, errorFrame('unauthorized', 'credential missing or refused', 401));
    const lastEventId = req.headers['last-event-id'];
    const hs = parseHandshake(params, typeof lastEventId === 'string' ? lastEventId : undefined);
    if (!hs.ok) return this.refuse(req, res, errorFrame('bad_request', hs.reason, 400));
    const client = clientAddress(req, this.opts);
    if (!(await this.sessions.restore(hs.params, client))) return this.refuse(req, res, unavailableFrame(STORE_UNREACHABLE));
    if (res.destroyed) return;
    const refused = this.sessions.admit(hs.params, auth.auth, client);
    if (refused) return this.refuse(req, res, { ...errorFrame('rate_limited', refused.message, 429), retryAfter: refused.retryAfter });
    this.startStream(req, res);

    let session: ReturnType<SessionManager['connect']> | undefined;
    const conn = new SseConnection(res, this.opts, (c) => {
      this.conns.delete(c);
      session?.detach(c);
    });
    this.conns.add(conn);
    this.heartbeat.start();
    session = this.sessions.connect(hs.params, conn, auth.auth, client);
    if (conn.closed) session.detach(conn); // the client left during the handshake
    session.afterDurable(() => {
      conn.flush(); // the welcome and the replay, before the allowance is measured
      conn.guard.allowance = res.writableLength;
    });
  }

  /**
   * Refuses in-band: a 200 stream holding one `error` event, then the end. Browsers hide the status and body of a
   * failed EventSource, so this is the only way the client learns why.
   */
  refuse(req: IncomingMessage, res: ServerResponse, frame: ErrorFrame, cors = this.opts.cors): void {
    if (res.destroyed) return;
    this.startStream(req, res, cors);
    res.end(`data: ${encodeFrame(frame)}\n\n`);
  }

  private startStream(req: IncomingMessage, res: ServerResponse, cors = this.opts.cors): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      // no-transform: proxies (and compression middleware) must not rewrite or hold the stream.
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
      ...corsHeaders(req, cors),
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.write(`retry: ${this.opts.sseRetryMs}\n\n`);
  }

  /** Ends every stream still open (sessions have already sent `close{shutdown}` on theirs). */
  close(): void {
    this.heartbeat.stop();
    for (const c of [...this.conns]) c.end({ t: 'close', code: 'shutdown' });
  }
}
