import type { ClientFrame, ServerFrame } from '../protocol/frames';
import { BaseTransport } from './base-transport';
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
import { describe, httpFailure, type HttpAnswer } from './failures';
import { withPrivateHeaders } from './http';
import { messageFrames } from './message-frames';
import { readEventStream } from './event-stream';
import { eventStreamLineLimit } from '../protocol/limits';
import { polyfillFetchTransport } from './sse-fetch';
import { StreamLagMonitor } from './stream-lag';
import type { TransportConnectParams } from './transport';
import { Upstream } from './upstream';
import { buildUrl } from './url';

/** event-source-polyfill clamps `heartbeatTimeout` to 18 000 000 ms; ask for that, the owner does liveness. */
const POLYFILL_MAX_HEARTBEAT_MS = 18_000_000;

/** The extra fields event-source-polyfill puts on the `error` event of a refused response. */
interface PolyfillErrorEvent {
  status?: unknown;
  statusText?: unknown;
  headers?: HttpAnswer['headers'];
}

/**
 * Server-Sent Events down (`E/sse`), `POST E/send` up. One reader per platform: the native EventSource where it
 * serves (no headers to send); else fetch with our parser (src/transports/event-stream.ts: auth headers, a resume
 * secret or a token, which no URL may show; or no EventSource, as in Node); event-source-polyfill where there is no fetch either (it reads with XHR), or when the
 * app passes it as EventSource.
 *
 * An EventSource reconnects by itself after an error; this transport does not let it: the first error closes it
 * and is reported, because the owner's scheduler decides every retry.
 */
export class SseTransport extends BaseTransport {
  readonly name = 'sse' as const;
  private source: EventSourceLike | undefined;
  private stopReading: (() => void) | undefined;
  private readonly upstream: Upstream;
  private readonly lag: StreamLagMonitor;
  /** The handshake's headers: the owner's and the private parameters. */
  private readonly requestHeaders: Record<string, string>;
  /** Why the polyfill's stream read through our fetch failed, for the failure's message (its error event says nothing). */
  private streamError: unknown;
  /** The longest event line our reader holds: as for 1 MiB messages until the welcome announces the server's limit. */
  private maxLine = eventStreamLineLimit(1 << 20);

  constructor(
    params: TransportConnectParams,
    private readonly env: TransportEnvironment = {},
  ) {
    super(params);
    this.requestHeaders = withPrivateHeaders(params.headers, params.hidden);
    this.upstream = new Upstream(params, resolveFetch(env), {
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

  /** Queued until the welcome names the connection, then POSTed one batch at a time. */
  send(frames: readonly ClientFrame[]): void {
    if (!this.closed) this.upstream.send(frames);
  }

  protected start(): void {
    const needsHeaders = Object.keys(this.requestHeaders).length > 0;
    const native = needsHeaders ? undefined : resolveNativeEventSource(this.env);
    if (native !== undefined) {
      this.open(native);
      return;
    }
    if (this.env.fetch ?? (globalThis as { fetch?: unknown }).fetch) {
      this.read();
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

  protected release(): void {
    this.lag.close();
    this.upstream.close();
    this.stopReading?.();
    this.stopReading = undefined;
    const source = this.source;
    this.source = undefined;
    if (source === undefined) return;
    source.removeEventListener('message', this.onMessage);
    source.removeEventListener('error', this.onError);
    source.close();
  }

  /** The stream read with fetch and our parser; its events are what an EventSource's `message` events would be. */
  private read(): void {
    const { params } = this;
    this.stopReading = readEventStream(
      {
        url: buildUrl(params.url, params.query, { path: '/sse' }),
        headers: this.requestHeaders,
        withCredentials: params.withCredentials,
        fetch: resolveFetch(this.env),
        what: 'SSE',
        maxLineLength: () => this.maxLine,
      },
      {
        opened: () => {},
        onEvent: ({ event, data }) => {
          if (event === 'message') this.onMessage({ type: 'message', data });
        },
        failed: (failure) => this.fail(failure),
      },
    );
  }

  private open(Ctor: EventSourceConstructor): void {
    // The polyfill-only fields are ignored by a native EventSource.
    const init: EventSourceInitLike = { withCredentials: this.params.withCredentials, heartbeatTimeout: POLYFILL_MAX_HEARTBEAT_MS };
    // An app may hand us event-source-polyfill as its EventSource (Node): where fetch exists it reads through ours,
    // whose abort() leaves no unhandled rejection behind (its own does, on every dropped stream).
    if (this.env.fetch ?? (globalThis as { fetch?: unknown }).fetch) init.Transport = polyfillFetchTransport(resolveFetch(this.env), (error) => (this.streamError = error));
    if (Object.keys(this.requestHeaders).length > 0) init.headers = this.requestHeaders;
    let source: EventSourceLike;
    try {
      source = new Ctor(buildUrl(this.params.url, this.params.query, { path: '/sse' }), init);
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
    const frames = messageFrames(event.data, 'non-text event');
    if ('kind' in frames) return this.fail(frames);
    for (const frame of frames) {
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
        this.fail(httpFailure('SSE', { status: detail.status, headers: detail.headers }));
      } else {
        const type = detail.headers?.get('Content-Type') ?? '-';
        this.fail({ kind: 'content_type', status: 200, message: `SSE answered with Content-Type ${type}` });
      }
      muteNextPolyfillComplaint();
      return;
    }
    const cause = this.streamError === undefined ? '' : `: ${describe(this.streamError)}`;
    this.fail({ kind: 'network', message: `SSE connection error${cause}` });
  };

  private deliver(frame: ServerFrame): void {
    if (this.closed) return;
    this.params.handlers.onFrame(frame);
    // After the owner saw the welcome, so frames it sends in reaction join the first POST.
    if (frame.t !== 'welcome' || this.closed) return;
    // A frame of a message of the server's limit must fit one line, whatever the limit (protocol: limits.ts).
    this.maxLine = eventStreamLineLimit(frame.maxFrame); // an integer: the codec checked
    this.upstream.setSession(frame);
    // Only a server that announced echoes gets them: an older one would refuse the whole POST.
    if (frame.echo === true && this.params.checkBuffering) this.lag.start();
  }
}

/**
 * event-source-polyfill prints "EventSource's response has …" to console.error right after it dispatched the error
 * event we just turned into a failure (its src/eventsource.js, onStart), which the owner reports through its logger:
 * that one line is dropped. Any other console.error in the meantime passes; the console is restored by the next
 * microtask whatever happens.
 */
function muteNextPolyfillComplaint(): void {
  const target = globalThis.console as { error: (...args: unknown[]) => void } | undefined;
  if (!target) return;
  const original = target.error;
  const filter = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].startsWith("EventSource's response")) {
      target.error = original;
      return;
    }
    original.apply(target, args);
  };
  target.error = filter;
  queueMicrotask(() => {
    if (target.error === filter) target.error = original;
  });
}
