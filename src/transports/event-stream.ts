import type { FetchFn } from './environment';
import { describe, httpFailure } from './failures';
import { credentialsMode } from './http';
import { createSseParser, SseLimitError, type SseParserCallbacks } from './sse-parser';
import type { TransportFailure } from './transport';

const EVENT_STREAM = /^text\/event-stream\s*(;|$)/i;

/** One `text/event-stream` request. */
export interface EventStreamRequest {
  url: string;
  headers: Readonly<Record<string, string>>;
  withCredentials: boolean;
  fetch: FetchFn;
  /** Names the stream in failure messages (`SSE`, `event stream`). */
  what: string;
  /** The longest line and event data to hold, asked again after every event (see SseParserOptions). Default 1 MiB. */
  maxLineLength?: () => number;
}

export interface EventStreamHandlers extends SseParserCallbacks {
  /** The server answered 200 with an event stream: events follow. */
  opened(): void;
  /** Called once; nothing is reported after it, or after the returned close function ran. */
  failed(failure: TransportFailure): void;
}

/**
 * Reads an event stream with fetch and our parser (the WHATWG rules, linear, bounded): what both modes use where a
 * native EventSource does not serve (headers to send, or none at all). An HTTP error, another media type, a dropped
 * or ended stream and a line too long to hold each end it with one failure. Returns the function that stops it.
 */
export function readEventStream(request: EventStreamRequest, handlers: EventStreamHandlers): () => void {
  const { what } = request;
  const controller = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let stopped = false;
  const parser = createSseParser({
    onEvent: (event) => !stopped && handlers.onEvent(event),
    onRetry: (ms) => !stopped && handlers.onRetry?.(ms),
    onComment: (text) => !stopped && handlers.onComment?.(text),
    onLastEventId: (id) => !stopped && handlers.onLastEventId?.(id),
  }, { maxBufferLength: request.maxLineLength });
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    reader?.cancel().catch(() => {}); // the stream may have failed already; nothing waits for this
    controller.abort();
    parser.reset();
  };
  const fail = (failure: TransportFailure): void => {
    if (stopped) return;
    stop();
    handlers.failed(failure);
  };

  const read = async (): Promise<void> => {
    let res: Response;
    try {
      res = await request.fetch(request.url, {
        method: 'GET',
        headers: { Accept: 'text/event-stream', ...request.headers },
        credentials: credentialsMode(request.withCredentials),
        cache: 'no-store',
        signal: controller.signal,
      });
    } catch (err) {
      return fail({ kind: 'network', message: `${what} request failed: ${describe(err)}` });
    }
    if (stopped) return;
    if (!res.ok) return fail(httpFailure(what, res));
    const type = res.headers.get('Content-Type') ?? '';
    if (!EVENT_STREAM.test(type) || res.body === null) {
      return fail({ kind: 'content_type', status: res.status, message: `${what} answered with Content-Type ${type || '-'}` });
    }
    reader = res.body.getReader();
    handlers.opened();
    // A streaming decoder: a UTF-8 sequence split across chunks stays whole, and a leading BOM is dropped.
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (stopped) return;
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
        if (stopped) return;
      }
    } catch (err) {
      // A line or an event too long to hold is the server's doing, not the network's.
      if (err instanceof SseLimitError) return fail({ kind: 'protocol', message: err.message });
      return fail({ kind: 'network', message: `${what} dropped: ${describe(err)}` });
    }
    // An event not finished by a blank line when the stream ends is discarded.
    fail({ kind: 'network', message: `${what} ended` });
  };
  void read();
  return stop;
}
