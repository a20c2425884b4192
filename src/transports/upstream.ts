import { decodeServerBatch, encodeBatch, encodeFrame, utf8Length } from '../protocol/codec';
import { postBodyLimit } from '../protocol/limits';
import type { ClientFrame, ServerFrame, WelcomeFrame } from '../protocol/frames';
import type { FetchFn } from './environment';
import { PostQueue } from './post-queue';
import type { TransportConnectParams, TransportFailure } from './transport';
import { withPrivateHeaders } from './http';
import { buildUrl, type QueryParams } from './url';

type Connection = Pick<WelcomeFrame, 'sid' | 'secret' | 'cid'>;

/**
 * The query that names one connection of a session, for the requests after the welcome (POSTs, later polls): of
 * the handshake query only `v` is carried over. It stays the same for the connection's life, so a cross-origin
 * preflight is asked once, not per request.
 */
export function connectionQuery(handshake: Readonly<Record<string, string>>, conn: Connection): QueryParams {
  return { v: handshake.v ?? '1', sid: conn.sid, cid: conn.cid };
}

/** The headers of those requests: the owner's, the connection's secret and the token. */
export function connectionHeaders(params: TransportConnectParams, conn: Connection): Record<string, string> {
  return withPrivateHeaders(params.headers, { secret: conn.secret, token: params.hidden.token });
}

/** What an upstream reports to the transport that owns it. */
export interface UpstreamHooks {
  /** Each server frame of a POST answer (normally the `ack`). */
  deliver(frame: ServerFrame): void;
  /** Any failed POST fails the transport; the owner reconnects and re-sends its outbox. */
  fail(failure: TransportFailure): void;
  /** The frames of a POST that was answered `2xx`, after its answer's frames were delivered. */
  answered?(batch: readonly ClientFrame[]): void;
}

/**
 * `POST E/send` for the HTTP transports (docs/protocol.md, "Upstream"): one POST in flight at a time, frames queued
 * meanwhile go out together as the next batch, in order. Nothing is sent before the welcome named the connection.
 */
export class Upstream {
  private readonly queue: PostQueue<ClientFrame>;
  private connection: Connection | undefined;
  /** The most bytes of one POST body the server reads: until the welcome, as if for 1 MiB messages. */
  private maxBody = postBodyLimit(1024 * 1024);

  constructor(params: TransportConnectParams, fetch: FetchFn, hooks: UpstreamHooks) {
    this.queue = new PostQueue<ClientFrame>(fetch, params, {
      what: 'upstream POST',
      batch: (queued) => this.fitting(queued),
      request: (batch) => ({
        url: buildUrl(params.url, connectionQuery(params.query, this.connection!), { path: '/send' }),
        headers: connectionHeaders(params, this.connection!),
        // text/plain keeps the POST without a preflight where nothing private is sent (protocol §4).
        contentType: 'text/plain;charset=UTF-8',
        body: encodeBatch(batch),
      }),
      read: (res) => res.text(),
      accepted: (batch, body) => {
        const decoded = decodeServerBatch(body);
        if (!decoded.ok) {
          hooks.fail({ kind: 'protocol', message: `upstream POST answer: ${decoded.reason}` });
          return;
        }
        for (const frame of decoded.frame) {
          if (this.queue.isClosed) return;
          hooks.deliver(frame);
        }
        if (!this.queue.isClosed) hooks.answered?.(batch);
      },
      fail: hooks.fail,
    });
  }

  /**
   * How many queued frames one POST takes: as many as fit the body the server reads (four frames of its largest
   * message), so a long queue of large emits is never refused whole (413) and resent whole for ever.
   */
  private fitting(queued: readonly ClientFrame[]): number {
    let bytes = 1;
    for (let i = 0; i < queued.length; i++) {
      bytes += utf8Length(encodeFrame(queued[i]!)) + 1;
      if (bytes > this.maxBody) return i;
    }
    return queued.length;
  }

  /** Called with the welcome: from now on POSTs can name the session and connection. */
  setSession(welcome: WelcomeFrame): void {
    this.connection = { sid: welcome.sid, secret: welcome.secret, cid: welcome.cid };
    this.maxBody = postBodyLimit(welcome.maxFrame);
    this.queue.start();
  }

  send(frames: readonly ClientFrame[]): void {
    this.queue.send(frames);
  }

  /** Aborts the POST in flight and drops the queue. */
  close(): void {
    this.queue.close();
  }
}
