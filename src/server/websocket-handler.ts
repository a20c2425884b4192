import { WS_SUBPROTOCOL } from '../protocol/carriers';
import { Heartbeat } from './heartbeat';
import type { RequestParams } from './request-params';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer, WebSocket, RawData } from 'ws';
import type { CloseFrame, ServerFrame } from '../protocol/frames';
import { QUERY } from '../protocol/frames';
import { decodeClientFrame, encodeFrame } from '../protocol/codec';
import { authenticate, clientAddress, errorFrame, parseHandshake, STORE_UNREACHABLE, unavailableFrame } from './http-util';
import { checkOrigin, type OriginWarnings } from './origin-check';
import type { ResolvedOptions } from './options';
import type { Session } from './session';
import type { Connection } from './types';
import { newConnectionId, type SessionManager } from './session-manager';
import { loadWs } from './ws-module';
import { FRAME_ENVELOPE_BYTES } from '../protocol/limits';
import { inboundOverLimit } from './message-size';
import { SlowReaderGuard } from './slow-reader';

/** WebSocket close codes of protocol §4. */
const CLOSE_CODE: Record<CloseFrame['code'], number> = { replaced: 4409, shutdown: 1001, session_ended: 1000 };

/** One WebSocket: a session's connection once it is active (immediately, or after `upgrade` on a probe). */
class WsConnection implements Connection {
  readonly transport = 'websocket' as const;
  readonly cid = newConnectionId();
  session: Session | null = null;
  /** A probe is not the session's connection until the client sends `upgrade`. */
  probing = false;
  private ackTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private ended = false;
  /** Cuts a client that reads slower than it is sent to; the replay's bytes are its allowance (see `replaying`). */
  private readonly guard: SlowReaderGuard;
  /** Frames sent in this event-loop turn, written as one message a microtask later (see `send`). */
  private batch: string[] | null = null;

  constructor(
    readonly ws: WebSocket,
    private readonly opts: ResolvedOptions,
    socket?: Duplex,
  ) {
    ws.on('pong', () => {
      this.alive = true;
    });
    this.guard = new SlowReaderGuard(opts, () => this.ws.bufferedAmount, (why, meta) => this.cut(why, meta));
    socket?.on('drain', () => this.guard.check());
  }

  /**
   * A client that does not read (fast enough): stop queueing before memory grows without bound. A close frame would
   * queue behind what it does not read, so the socket is cut; the session waits for a resume from its replay buffer.
   */
  private cut(why: 'slow' | 'hard', meta: Record<string, number>): void {
    const what = why === 'slow' ? 'websocket client is not reading fast enough; connection cut' : 'websocket client is not reading; connection cut at the hard bound';
    this.opts.logger.warn(what, { sid: this.session?.id, ...meta });
    this.ended = true;
    this.dispose();
    this.ws.terminate();
  }

  /** The handler's heartbeat: a ping frame and a WebSocket ping; a socket that did not pong since the last is cut. */
  beat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.send({ t: 'ping' });
    try {
      this.ws.ping();
    } catch {
      // closing already
    }
  }

  send(frame: ServerFrame, text = encodeFrame(frame)): void {
    if (this.ended || this.ws.readyState !== this.ws.OPEN) return;
    // Every frame of this turn (a burst, a replay, one broadcast of many) leaves as one WebSocket message holding a
    // JSON array (protocol §4): browsers pay a fixed cost per message, and the server one write per message.
    if (this.batch) {
      this.batch.push(text);
      return;
    }
    this.batch = [text];
    queueMicrotask(() => this.flush());
  }

  /** Writes the frames batched so far: one frame as itself, several as a JSON array. */
  private flush(): void {
    const texts = this.batch;
    this.batch = null;
    if (!texts || this.ended || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(texts.length === 1 ? texts[0]! : `[${texts.join(',')}]`);
    this.guard.check();
  }

  end(frame: CloseFrame): void {
    this.send(frame);
    this.close(CLOSE_CODE[frame.code], frame.code);
  }

  close(code: number, reason: string): void {
    if (this.ended) return;
    this.flush(); // frames of this turn (a close frame, say) go before the close
    this.ended = true;
    this.dispose();
    this.ws.close(code, reason);
  }

  /** Acknowledges after a short delay so a burst gets one `ack`. */
  scheduleAck(): void {
    if (this.ackTimer || this.ended) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      const session = this.session;
      if (!session) return;
      const n = session.accepted;
      // Acknowledged only once the acceptance is durable: the client forgets what is acknowledged.
      session.afterDurable(() => this.send({ t: 'ack', n }));
    }, this.opts.ackDelayMs);
  }

  /**
   * Runs `attach` (welcome + replay) with the back-pressure check suspended, then allows what it queued (bounded by
   * the replay buffer) on top of the limits, so resuming a large backlog does not count as reading slowly.
   */
  replaying<T>(attach: () => T): T {
    this.guard.allowance = Infinity;
    try {
      const result = attach();
      this.flush();
      return result;
    } finally {
      this.guard.allowance = this.ws.bufferedAmount;
    }
  }

  dispose(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.guard.dispose();
  }
}

/** `E/ws`: upgrades, handshakes, probes (protocol §6), inbound frames, heartbeats. */
export class WebSocketHandler {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<WsConnection>();
  private readonly heartbeat: Heartbeat<WsConnection>;
  /** Sockets told `origin_rejected`, until their closing handshake ends. */
  private readonly refused = new Set<WebSocket>();

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly sessions: SessionManager,
    private readonly originWarnings: OriginWarnings,
  ) {
    this.heartbeat = new Heartbeat(this.conns, opts.heartbeatMs);
    const { WebSocketServer } = loadWs(); // a clear error here when the app has not installed `ws`
    // Frames above the limit but below twice that get `error{frame_too_large}` + 1009 from us; larger ones are
    // refused by ws itself (close 1009) without reading them into memory.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: (opts.maxMessageBytes + FRAME_ENVELOPE_BYTES) * 2,
      perMessageDeflate: false,
      // A client that sends private parameters in a subprotocol offers ours too; the browser fails the handshake
      // unless the answer selects it.
      handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    });
  }

  get size(): number {
    return this.conns.size;
  }

  /** Takes over an upgrade request for `E/ws`; rejects only on a bug (the caller logs it and destroys the socket). */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, params: RequestParams): Promise<void> {
    socket.on('error', () => socket.destroy());
    const refusal = checkOrigin(req, this.opts);
    if (refusal) {
      this.originWarnings.refused(refusal, 'websocket');
      // Cross-site WebSocket hijacking: no credential check, no session, nothing but the refusal. The handshake is
      // completed only so the refusal can be read: browsers hide the status of a refused upgrade.
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => ws.terminate());
        this.refused.add(ws);
        ws.once('close', () => this.refused.delete(ws));
        ws.send(encodeFrame(errorFrame('origin_rejected', refusal.message, 403)));
        ws.close(4403, 'origin_rejected');
      });
      return;
    }
    const auth = await authenticate(this.opts, req);
    const hs = parseHandshake(params);
    const probe = params.url.searchParams.get(QUERY.probe) === '1';
    const restored = !auth.ok || !hs.ok || (await this.sessions.restore(hs.params, clientAddress(req, this.opts), probe));
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        this.onOpen(ws, req, params, auth, socket, restored);
      } catch (err) {
        this.opts.logger.error('websocket handshake failed', { err });
        ws.terminate();
      }
    });
  }

  private onOpen(ws: WebSocket, req: IncomingMessage, params: RequestParams, auth: { ok: true; auth: unknown } | { ok: false }, socket: Duplex, restored: boolean): void {
    const conn = new WsConnection(ws, this.opts, socket);
    this.conns.add(conn);
    this.heartbeat.start();
    ws.on('error', (err) => this.opts.logger.debug('websocket error', { err }));
    ws.on('close', () => {
      conn.dispose();
      this.conns.delete(conn);
      if (conn.session && !conn.probing) conn.session.detach(conn);
    });
    if (!auth.ok) {
      conn.send(errorFrame('unauthorized', 'credential missing or refused', 401));
      conn.close(4401, 'unauthorized');
      return;
    }
    const hs = parseHandshake(params);
    if (!hs.ok) {
      conn.send(errorFrame('bad_request', hs.reason, 400));
      conn.close(4400, 'bad_request');
      return;
    }
    if (!restored) {
      conn.send(unavailableFrame(STORE_UNREACHABLE));
      conn.close(4503, 'unavailable');
      return;
    }
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(conn, data, isBinary);
      } catch (err) {
        // A bug of ours must not take the process down with it: this connection goes, the session resumes.
        this.opts.logger.error('websocket message handling failed; connection cut', { sid: conn.session?.id, err });
        ws.terminate();
      }
    });
    const probe = params.url.searchParams.get(QUERY.probe) === '1';
    const client = clientAddress(req, this.opts);
    const refused = probe ? null : this.sessions.admit(hs.params, auth.auth, client);
    if (refused) {
      conn.send({ ...errorFrame('rate_limited', refused.message, 429), retryAfter: refused.retryAfter });
      conn.close(4429, 'rate_limited');
      return;
    }
    if (probe) {
      // A probe replays nothing (the `upgrade` frame carries the `last` that matters), so its query `last`, which
      // acks on the live connection may have overtaken meanwhile, must not fail it as an overrun.
      const r = this.sessions.resolve(hs.params, true);
      if (!r.ok) {
        // The probe fails; the session (if any) never notices it.
        this.opts.logger.debug('probe refused', { sid: hs.params.sid, why: r.why });
        conn.end({ t: 'close', code: 'session_ended', reason: r.why });
        return;
      }
      r.session.checkSecret(hs.params.secret ?? ''); // presenting the current secret retires the previous one
      conn.session = r.session;
      conn.probing = true;
      conn.send(this.sessions.welcome(r.session, conn.cid, true, { probe: true }));
      return;
    }
    const session = conn.replaying(() => this.sessions.connect(hs.params, conn, auth.auth, client));
    conn.session = session;
    // With an adapter the welcome and replay leave once durable: measure the replay's bytes then.
    session.afterDurable(() => conn.replaying(() => undefined));
  }

  private onMessage(conn: WsConnection, data: RawData, isBinary: boolean): void {
    const session = conn.session;
    if (!session) return;
    const text = isBinary ? null : rawToString(data);
    if (text === null) {
      conn.send(errorFrame('malformed_frame', 'frames are JSON text messages'));
      return;
    }
    const limit = this.opts.maxMessageBytes;
    const textBytes = Buffer.byteLength(text);
    const tooLarge = (): void => {
      conn.send(errorFrame('frame_too_large', `a message exceeds ${limit} bytes`));
      conn.close(1009, 'frame_too_large');
    };
    if (textBytes > limit + FRAME_ENVELOPE_BYTES) return tooLarge();
    const d = decodeClientFrame(text);
    if (!d.ok) {
      const code = d.reason.startsWith('unknown frame type') ? 'unknown_frame' : 'malformed_frame';
      conn.send(errorFrame(code, d.reason));
      return;
    }
    if (inboundOverLimit(d.frame, textBytes, limit) !== null) return tooLarge();
    const frame = d.frame;
    if (frame.t === 'upgrade') {
      if (!conn.probing) return;
      // The client has moved its session onto this probe already: only a session that is really over may be called
      // ended here. A copy this process let go lives on elsewhere: `shutdown`, and the client resumes there.
      if (session.letGo) return conn.end({ t: 'close', code: 'shutdown' });
      if (session.ended || !session.canResumeFrom(frame.last)) {
        conn.end({ t: 'close', code: 'session_ended', reason: session.ended ? 'expired' : 'overrun' });
        return;
      }
      conn.probing = false;
      conn.replaying(() => session.attach(conn, frame.last));
      session.afterDurable(() => conn.replaying(() => undefined));
      return;
    }
    // A connection the session has left (replaced, or closed by an overrun's refusal, which has told the client what
    // the session accepted) carries nothing more into it: the client re-sends what is unacknowledged on its new one.
    if (session.connection !== conn) return;
    const outcome = session.receive(frame);
    if (outcome === 'accepted' || outcome === 'duplicate') conn.scheduleAck();
  }

  /** Closes every socket (after `close{shutdown}` for active ones) and the ws server. */
  close(): Promise<void> {
    this.heartbeat.stop();
    for (const c of [...this.conns]) c.end({ t: 'close', code: 'shutdown' });
    // Peers that do not complete the closing handshake promptly are cut off.
    const force = setTimeout(() => {
      for (const c of this.conns) c.ws.terminate();
      for (const ws of this.refused) ws.terminate();
    }, 1000);
    return new Promise((resolve) =>
      this.wss.close(() => {
        clearTimeout(force);
        resolve();
      }),
    );
  }
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
