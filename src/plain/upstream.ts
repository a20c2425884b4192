import type { ClientFrame, EmitFrame } from '../protocol/frames';
import type { FetchFn } from '../transports/environment';
import { PostQueue } from '../transports/post-queue';
import type { TransportConnectParams, TransportFailure } from '../transports/transport';
import { buildUrl } from '../transports/url';
import { emitsOf, encodeEmit, markSent } from './common';
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
  private readonly queue: PostQueue<EmitFrame>;

  constructor(
    params: TransportConnectParams,
    state: PlainState,
    private readonly sendUrl: string | undefined,
    fetch: FetchFn,
    fail: (failure: TransportFailure) => void,
  ) {
    this.queue = new PostQueue<EmitFrame>(fetch, params, {
      what: 'send POST',
      batch: () => 1,
      request: ([frame]) => ({ url: buildUrl(sendUrl!, params.query), contentType: 'application/json', body: encodeEmit(frame!) }),
      // The answer's body means nothing to plain mode; read it so the connection can be reused.
      read: async (res) => {
        await res.arrayBuffer();
        return '';
      },
      accepted: ([frame]) => markSent(params.handlers, state, frame!.seq),
      fail,
    });
  }

  /** The connection is usable: start posting. */
  start(): void {
    this.queue.start();
  }

  /** Queues the emits among `frames` (plain servers take nothing else). */
  send(frames: readonly ClientFrame[]): void {
    if (this.sendUrl === undefined) return;
    const emits = emitsOf(frames);
    if (emits.length > 0) this.queue.send(emits);
  }

  /** Aborts the POST in flight and drops the queue. */
  close(): void {
    this.queue.close();
  }
}
