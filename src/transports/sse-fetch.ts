import type { FetchFn } from './environment';
import { credentialsMode } from './http';

/** The callbacks event-source-polyfill hands its `Transport` (see its FetchTransport in src/eventsource.js). */
type OnStart = (status: number, statusText: string, contentType: string | null, headers: { get(name: string): string | null }) => void;
type OnProgress = (chunk: string) => void;
type OnFinish = (error: unknown) => void;

/**
 * A stream reader for event-source-polyfill's `Transport` option, replacing its own FetchTransport for two
 * reasons: its `abort()` cancels the reader of a stream that already failed without handling the rejected promise
 * (an unhandled rejection, fatal in Node, whenever a server drops the stream), and it captures `fetch` when the
 * module is first evaluated instead of using the one the transport was given.
 */
export function polyfillFetchTransport(fetchFn: FetchFn, failed: (error: unknown) => void = () => {}): new () => unknown {
  return class SseFetchTransport {
    open(
      _xhr: unknown,
      onStart: OnStart,
      onProgress: OnProgress,
      onFinish: OnFinish,
      url: string,
      withCredentials: boolean,
      headers: Record<string, string>,
    ): { abort(): void } {
      const controller = new AbortController();
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      const decoder = new TextDecoder();
      const read = async (): Promise<void> => {
        const res = await fetchFn(url, {
          headers,
          credentials: credentialsMode(withCredentials),
          signal: controller.signal,
          cache: 'no-store',
        });
        if (res.body) reader = res.body.getReader();
        onStart(res.status, res.statusText, res.headers.get('Content-Type'), { get: (name) => res.headers.get(name) });
        if (!reader) return;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          onProgress(decoder.decode(value, { stream: true }));
        }
      };
      // The polyfill only logs the error it is given (console.error on every dropped stream); the transport reports
      // the failure itself, so the error goes to `failed` (for its message) and not on to the polyfill.
      read().then(
        () => onFinish(undefined),
        (error: unknown) => {
          failed(error);
          onFinish(undefined);
        },
      );
      return {
        abort() {
          reader?.cancel().catch(() => {}); // the stream may have failed already; nothing is waiting for this
          controller.abort();
        },
      };
    }
  };
}
