import { decodeServerBatch, decodeServerFrame } from '../protocol/codec';
import type { ClientFrame, ServerFrame } from '../protocol/frames';
import {
  loadEventSourcePolyfill,
  resolveFetch,
  resolveNativeEventSource,
  type EventSourceConstructor,
  type EventSourceInitLike,
  type EventSourceLike,
  type MessageEventLike,
  type TransportEnvironment,
} from './environment';
import { buildUrl, ScheduledCallbacks, parseRetryAfter, type Transport, type TransportConnectParams, type TransportFailure } from './transport';
import { describe, Upstream } from './upstream';
import { polyfillFetchTransport } from './sse-fetch';
import { StreamLagMonitor } from './stream-lag';

/** event-source-polyfill clamps `heartbeatTimeout` to 18 000 000 ms; ask for that, the owner does liveness. */
const POLYFILL_MAX_HEARTBEAT_MS = 18_000_000;

/** The extra fields event-source-polyfill puts on the `error` event of a refused response. */
interface PolyfillErrorEvent {
  status?: unknown;
  statusText?: unknown;
  headers?: { get(name: string): string | null };
}

/**
 * Server-Sent Events down (`E/sse`), `POST E/send` up.
 *
 * An EventSource reconnects by itself after an error; this transport does not let it: the first error closes it
 * and is reported, because the owner's scheduler decides every retry.
 */
export class SseTransport implements Transport {
  readonly name = 'sse' as const;
  private source: EventSourceLike | undefined;
  private readonly upstream: Upstream;
  private readonly timers: ScheduledCallbacks;
  private readonly lag: StreamLagMonitor;
  private closed = false;
  private started = false;

  constructor(
    private readonly params: TransportConnectParams,
    private readonly env: TransportEnvironment = {},
  ) {
    this.timers = new ScheduledCallbacks(params.schedule);
    this.upstream = new Upstream({
      url: params.url,
      query: params.query,
      headers: params.headers,
      withCredentials: params.withCredentials,
      fetch: resolveFetch(env),
      deliver: (frame) => this.deliver(frame),
      fail: (failure) => this.fail(failure),
      answered: (batch) => {
        for (const frame of batch) if (frame.t === 'echo') this.lag.answered(frame.n);
      },
    });
    this.lag = new StreamLagMonitor({
      now: params.now,
      after: (callback, delayMs) => this.timers.after(callback, delayMs),
      sendEcho: (n) => this.upstream.send([{ t: 'echo', n }]),
      buffered: (message) => this.fail({ kind: 'buffered', message }),
    });
  }

  connect(): void {
    if (this.closed || this.started) return;
    this.started = true;
    const needsHeaders = Object.keys(this.params.headers).length > 0;
    const native = needsHeaders ? undefined : resolveNativeEventSource(this.env);
    if (native !== undefined) {
      this.open(native);
      return;
    }
    const load = this.env.loadEventSourcePolyfill ?? loadEventSourcePolyfill;
    load().then(
      (Polyfill) => {
        if (!this.closed) this.open(Polyfill);
      },
      (err: unknown) => this.fail({ kind: 'network', message: `could not load event-source-polyfill: ${describe(err)}` }),
    );
  }

  /** Queued until the welcome names the connection, then POSTed one batch at a time. */
  send(frames: readonly ClientFrame[]): void {
    if (!this.closed) this.upstream.send(frames);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lag.close();
    this.timers.cancelAll();
    this.upstream.close();
    const source = this.source;
    this.source = undefined;
    if (source === undefined) return;
    source.removeEventListener('message', this.onMessage);
    source.removeEventListener('error', this.onError);
    source.close();
  }

  private open(Ctor: EventSourceConstructor): void {
    // The polyfill-only fields are ignored by a native EventSource.
    const init: EventSourceInitLike = {
      withCredentials: this.params.withCredentials,
      heartbeatTimeout: POLYFILL_MAX_HEARTBEAT_MS,
      Transport: polyfillFetchTransport(resolveFetch(this.env)),
    };
    if (Object.keys(this.params.headers).length > 0) init.headers = { ...this.params.headers };
    let source: EventSourceLike;
    try {
      source = new Ctor(buildUrl(this.params.url, '/sse', this.params.query), init);
    } catch (err) {
      // A malformed URL throws synchronously; report it later so connect() itself never calls back.
      this.timers.after(() => this.fail({ kind: 'network', message: `EventSource: ${describe(err)}` }));
      return;
    }
    this.source = source;
    source.addEventListener('message', this.onMessage);
    source.addEventListener('error', this.onError);
  }

  private readonly onMessage = (event: MessageEventLike): void => {
    if (this.closed) return;
    if (typeof event.data !== 'string') {
      this.fail({ kind: 'protocol', message: 'non-text event' });
      return;
    }
    // One frame, or a JSON array of frames the server coalesced (protocol §4).
    const decoded = event.data.startsWith('[') ? decodeServerBatch(event.data) : decodeServerFrame(event.data);
    if (!decoded.ok) {
      this.fail({ kind: 'protocol', message: decoded.reason });
      return;
    }
    for (const frame of Array.isArray(decoded.frame) ? decoded.frame : [decoded.frame]) {
      if (this.closed) return; // the owner closed us from inside a callback
      // An echo answers this transport's own check; the owner never sees it.
      if (frame.t === 'echo') {
        this.lag.echo(frame.n);
        continue;
      }
      this.deliver(frame);
      if (!this.closed) this.lag.streamFrame(frame.t === 'msg' || frame.t === 'reply');
    }
  };

  /**
   * Native EventSource errors carry nothing. event-source-polyfill's error for a refused response carries `status`,
   * `statusText` and `headers` (its `onStart`, src/eventsource.js): a non-200 status is an HTTP failure, a 200 of the
   * wrong media type a content-type failure. Anything else (stream ended, network) is a network failure.
   */
  private readonly onError = (event: MessageEventLike): void => {
    if (this.closed) return;
    const detail = event as unknown as PolyfillErrorEvent;
    if (typeof detail.status === 'number' && detail.status !== 0) {
      if (detail.status !== 200) {
        const failure: TransportFailure = { kind: 'http', status: detail.status, message: `SSE answered ${detail.status}` };
        const retryAfter = parseRetryAfter(detail.headers?.get('Retry-After') ?? null);
        if (retryAfter !== undefined) failure.retryAfter = retryAfter;
        this.fail(failure);
      } else {
        const type = detail.headers?.get('Content-Type') ?? '-';
        this.fail({ kind: 'content_type', status: 200, message: `SSE answered with Content-Type ${type}` });
      }
      return;
    }
    this.fail({ kind: 'network', message: 'SSE connection error' });
  };

  private deliver(frame: ServerFrame): void {
    if (this.closed) return;
    this.params.handlers.onFrame(frame);
    // After the owner saw the welcome, so frames it sends in reaction join the first POST.
    if (frame.t !== 'welcome' || this.closed) return;
    this.upstream.setSession(frame);
    // Only a server that announced echoes gets them: an older one would refuse the whole POST.
    if (frame.echo === true && this.params.checkBuffering) this.lag.start();
  }

  private fail(failure: TransportFailure): void {
    if (this.closed) return;
    this.close();
    this.params.handlers.onFailure(failure);
  }

}
