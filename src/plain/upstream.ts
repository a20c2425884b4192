import type { EmitFrame } from '../protocol/frames';
import type { FetchFn } from '../transports/environment';
import { httpFailure, type TransportConnectParams, type TransportFailure } from '../transports/transport';
import { describe, encodeEmit, markSent, withQuery } from './common';
import type { PlainState } from './plain';

/**
 * Emits of the plain HTTP transports: one `POST { "event", "data" }` per emit to the `send` endpoint, in order, one
 * in flight at a time, nothing before the connection is open. A 2xx acknowledges that emit; any failure fails the
 * transport, and the owner re-sends what is unacknowledged after reconnecting (at-least-once).
 *
 * Without a `send` endpoint emits are dropped here unacknowledged: they stay in the owner's outbox and go out once
 * a WebSocket is used.
 */
export class PlainUpstream {
  private readonly queue: EmitFrame[] = [];
  private inFlight: AbortController | undefined;
  private open = false;
  private closed = false;

  constructor(
    private readonly params: TransportConnectParams,
    private readonly state: PlainState,
    private readonly sendUrl: string | undefined,
    private readonly fetch: FetchFn,
    private readonly fail: (failure: TransportFailure) => void,
  ) {}

  /** The connection is usable: start posting. */
  start(): void {
    this.open = true;
    this.pump();
  }

  send(frames: readonly EmitFrame[]): void {
    if (this.closed || this.sendUrl === undefined) return;
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
    if (this.closed || !this.open || this.inFlight !== undefined) return;
    const frame = this.queue.shift();
    if (frame === undefined) return;
    const controller = new AbortController();
    this.inFlight = controller;
    void this.post(frame, controller);
  }

  private async post(frame: EmitFrame, controller: AbortController): Promise<void> {
    let res: Response;
    try {
      res = await this.fetch(withQuery(this.sendUrl!, this.params.query), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...this.params.headers },
        body: encodeEmit(frame),
        credentials: this.params.withCredentials ? 'include' : 'same-origin',
        signal: controller.signal,
      });
      // The answer's body means nothing to plain mode; read it so the connection can be reused.
      await res.arrayBuffer();
    } catch (err) {
      if (this.closed || controller.signal.aborted) return;
      this.fail({ kind: 'network', message: `send POST failed: ${describe(err)}` });
      return;
    }
    if (this.closed) return;
    if (!res.ok) {
      this.fail(httpFailure('send POST', res));
      return;
    }
    this.inFlight = undefined;
    markSent(this.params.handlers, this.state, frame.seq);
    this.pump();
  }
}
