import type { ClientFrame } from '../protocol/frames';
import { BaseTransport } from '../transports/base-transport';
import { resolveFetch, type FetchFn, type TransportEnvironment } from '../transports/environment';
import { describe, httpFailure } from '../transports/failures';
import { credentialsMode } from '../transports/http';
import type { TransportConnectParams } from '../transports/transport';
import { buildUrl } from '../transports/url';
import { deliverMessage, parseOrRaw, plainWelcome } from './common';
import type { PlainState } from './plain';
import { createSseParser, SseLimitError, type SseParser } from './sse-parser';
import { PlainUpstream } from './upstream';

const EVENT_STREAM = /^text\/event-stream\s*(;|$)/i;

/**
 * A `text/event-stream` endpoint read with fetch (so `Last-Event-ID` and auth headers can be sent) and parsed by
 * {@link createSseParser}. Named events keep their name, unnamed ones are `message`; data is JSON when it parses.
 * `id:` is remembered and sent back as `Last-Event-ID` on the next connection; `retry:` becomes the owner's
 * reconnect delay; comment lines count as traffic (a `ping`). Emits are POSTed to the `send` endpoint.
 */
export class PlainSseTransport extends BaseTransport {
  readonly name = 'sse' as const;
  private readonly fetch: FetchFn;
  private readonly upstream: PlainUpstream;
  private readonly parser: SseParser;
  private controller: AbortController | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(
    params: TransportConnectParams,
    env: TransportEnvironment,
    private readonly state: PlainState,
    sendUrl: string | undefined,
  ) {
    super(params);
    this.fetch = resolveFetch(env);
    this.upstream = new PlainUpstream(params, state, sendUrl, this.fetch, (failure) => this.fail(failure));
    this.parser = createSseParser({
      onEvent: ({ event, data }) => {
        if (!this.closed) deliverMessage(this.params.handlers, this.state, event, parseOrRaw(data));
      },
      onRetry: (ms) => {
        if (!this.closed) this.state.retryMs = ms;
      },
      onComment: () => {
        if (!this.closed) this.params.handlers.onFrame({ t: 'ping' });
      },
      onLastEventId: (id) => {
        // The spec sends no Last-Event-ID when the last event ID string is empty.
        if (!this.closed) this.state.lastEventId = id === '' ? undefined : id;
      },
    });
  }

  send(frames: readonly ClientFrame[]): void {
    if (!this.closed) this.upstream.send(frames);
  }

  protected start(): void {
    void this.read();
  }

  protected release(): void {
    this.reader?.cancel().catch(() => {}); // the stream may have failed already; nothing waits for this
    this.reader = undefined;
    this.controller?.abort();
    this.controller = undefined;
    this.upstream.close();
    this.parser.reset();
  }

  private async read(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...this.params.headers };
    if (this.state.lastEventId !== undefined) headers['Last-Event-ID'] = this.state.lastEventId;
    let res: Response;
    try {
      res = await this.fetch(buildUrl(this.params.url, this.params.query), {
        method: 'GET',
        headers,
        credentials: credentialsMode(this.params.withCredentials),
        cache: 'no-store',
        signal: controller.signal,
      });
    } catch (err) {
      if (this.closed || controller.signal.aborted) return;
      this.fail({ kind: 'network', message: `event stream request failed: ${describe(err)}` });
      return;
    }
    if (this.closed) return;
    if (!res.ok) {
      controller.abort(); // the body is not wanted
      this.fail(httpFailure('event stream', res));
      return;
    }
    const type = res.headers.get('Content-Type') ?? '';
    if (!EVENT_STREAM.test(type) || res.body === null) {
      controller.abort();
      this.fail({ kind: 'content_type', message: `event stream answered with Content-Type ${type || '-'}` });
      return;
    }
    const reader = res.body.getReader();
    this.reader = reader;
    this.params.handlers.onFrame(plainWelcome(this.state));
    if (this.closed) return;
    this.upstream.start();
    // A streaming decoder: a UTF-8 sequence split across chunks stays whole, and a leading BOM is dropped.
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.closed) return;
        if (done) break;
        this.parser.feed(decoder.decode(value, { stream: true }));
        if (this.closed) return;
      }
    } catch (err) {
      if (this.closed) return;
      // A line or an event too long to hold is the server's doing, not the network's.
      if (err instanceof SseLimitError) this.fail({ kind: 'protocol', message: err.message });
      else this.fail({ kind: 'network', message: `event stream dropped: ${describe(err)}` });
      return;
    }
    // An event not finished by a blank line when the stream ends is discarded (the parser is reset on close).
    this.fail({ kind: 'network', message: 'event stream ended' });
  }
}
