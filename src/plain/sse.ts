import type { ClientFrame } from '../protocol/frames';
import { BaseTransport } from '../transports/base-transport';
import { resolveFetch, type TransportEnvironment } from '../transports/environment';
import { readEventStream } from '../transports/event-stream';
import type { TransportConnectParams } from '../transports/transport';
import { buildUrl } from '../transports/url';
import { deliverMessage, parseOrRaw, plainWelcome } from './common';
import type { PlainState } from './plain';
import { PlainUpstream } from './upstream';

/**
 * A `text/event-stream` endpoint read with fetch (so `Last-Event-ID` and auth headers can be sent) through the
 * shared reader (src/transports/event-stream.ts). Named events keep their name, unnamed ones are `message`; data is
 * JSON when it parses. `id:` is remembered and sent back as `Last-Event-ID` on the next connection; `retry:` becomes
 * the owner's reconnect delay; comment lines count as traffic (a `ping`). Emits are POSTed to the `send` endpoint.
 */
export class PlainSseTransport extends BaseTransport {
  readonly name = 'sse' as const;
  private readonly upstream: PlainUpstream;
  private stopReading: (() => void) | undefined;

  constructor(
    params: TransportConnectParams,
    private readonly env: TransportEnvironment,
    private readonly state: PlainState,
    sendUrl: string | undefined,
  ) {
    super(params);
    this.upstream = new PlainUpstream(params, state, sendUrl, resolveFetch(env), (failure) => this.fail(failure));
  }

  send(frames: readonly ClientFrame[]): void {
    if (!this.closed) this.upstream.send(frames);
  }

  protected start(): void {
    const headers: Record<string, string> = { ...this.params.headers };
    if (this.state.lastEventId !== undefined) headers['Last-Event-ID'] = this.state.lastEventId;
    const { params, state } = this;
    this.stopReading = readEventStream(
      { url: buildUrl(params.url, params.query), headers, withCredentials: params.withCredentials, fetch: resolveFetch(this.env), what: 'event stream' },
      {
        opened: () => {
          params.handlers.onFrame(plainWelcome(state));
          if (!this.closed) this.upstream.start();
        },
        onEvent: ({ event, data }) => deliverMessage(params.handlers, state, event, parseOrRaw(data)),
        onRetry: (ms) => (state.retryMs = ms),
        onComment: () => params.handlers.onFrame({ t: 'ping' }),
        // The spec sends no Last-Event-ID when the last event ID string is empty.
        onLastEventId: (id) => (state.lastEventId = id === '' ? undefined : id),
        failed: (failure) => this.fail(failure),
      },
    );
  }

  protected release(): void {
    this.stopReading?.();
    this.stopReading = undefined;
    this.upstream.close();
  }
}
