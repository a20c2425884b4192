import { decodeServerBatch, encodeBatch } from '../protocol/codec';
import type { ClientFrame, ServerFrame, WelcomeFrame } from '../protocol/frames';
import type { FetchFn } from './environment';
import { buildUrl, httpFailure, type TransportFailure } from './transport';

/** What an upstream needs from the transport that owns it. */
export interface UpstreamOptions {
  url: string;
  /** The handshake query; only `v` and `access_token` are carried over to POSTs. */
  query: Readonly<Record<string, string>>;
  headers: Readonly<Record<string, string>>;
  withCredentials: boolean;
  fetch: FetchFn;
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
  private readonly queue: ClientFrame[] = [];
  private session: Pick<WelcomeFrame, 'sid' | 'secret' | 'cid'> | undefined;
  private inFlight: AbortController | undefined;
  private closed = false;

  constructor(private readonly opts: UpstreamOptions) {}

  /** Called with the welcome: from now on POSTs can name the session and connection. */
  setSession(welcome: WelcomeFrame): void {
    this.session = { sid: welcome.sid, secret: welcome.secret, cid: welcome.cid };
    this.pump();
  }

  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    this.queue.push(...frames);
    this.pump();
  }

  /** Aborts the POST in flight and drops the queue. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private pump(): void {
    if (this.closed || this.inFlight !== undefined || this.session === undefined || this.queue.length === 0) return;
    const batch = this.queue.splice(0);
    const controller = new AbortController();
    this.inFlight = controller;
    void this.post(batch, this.session, controller);
  }

  private async post(
    batch: ClientFrame[],
    session: Pick<WelcomeFrame, 'sid' | 'secret' | 'cid'>,
    controller: AbortController,
  ): Promise<void> {
    const { query } = this.opts;
    const q: Record<string, string> = { v: query.v ?? '1', sid: session.sid, secret: session.secret, cid: session.cid };
    if (query.access_token !== undefined) q.access_token = query.access_token;
    let res: Response;
    let text: string;
    try {
      res = await this.opts.fetch(buildUrl(this.opts.url, '/send', q), {
        method: 'POST',
        // text/plain keeps the POST a CORS "simple request" (no preflight); the server accepts it (protocol §4).
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...this.opts.headers },
        body: encodeBatch(batch),
        credentials: this.opts.withCredentials ? 'include' : 'same-origin',
        signal: controller.signal,
      });
      text = await res.text();
    } catch (err) {
      if (this.closed || controller.signal.aborted) return;
      this.opts.fail({ kind: 'network', message: `upstream POST failed: ${describe(err)}` });
      return;
    }
    if (this.closed) return;
    if (!res.ok) {
      this.opts.fail(httpFailure('upstream POST', res, text));
      return;
    }
    const decoded = decodeServerBatch(text);
    if (!decoded.ok) {
      this.opts.fail({ kind: 'protocol', message: `upstream POST answer: ${decoded.reason}` });
      return;
    }
    for (const frame of decoded.frame) {
      if (this.closed) return;
      this.opts.deliver(frame);
    }
    if (this.closed) return;
    this.opts.answered?.(batch);
    if (this.closed) return;
    this.inFlight = undefined;
    this.pump();
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
