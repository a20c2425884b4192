/**
 * The body of one of the fake's SSE responses (fake-realtime.ts), with the proxies a test can put in front of it:
 * one that holds writes until told (`buffered`, released by the fake), or one that holds them until the stream ends.
 */

/** `'one-read'`: the end lets every held write out first, in one read; `'split'`: the first one, the rest 20 ms later. */
export type HeldUntilEnd = false | 'one-read' | 'split';

export interface FakeEventStream {
  stream: ReadableStream<Uint8Array>;
  /** Writes `text` now, through the proxy in front. `buffered`: the proxy keeps it until `release` is called. */
  write(text: string, buffered: ((release: () => void) => void) | null): void;
  /** Ends the stream (a proxy holding it until the end lets out what it held first). */
  close(): void;
  /** The client went away: nothing more is written. */
  abort(): void;
}

export function fakeEventStream(heldUntilEnd: HeldUntilEnd): FakeEventStream {
  const enc = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      open = false;
    },
  });
  const writeNow = (text: string): void => {
    if (!open) return;
    try {
      controller.enqueue(enc.encode(text));
    } catch {
      open = false;
    }
  };
  const end = (): void => {
    if (!open) return; // the client let go first
    open = false;
    controller.close();
  };
  const heldToEnd: string[] = [];
  return {
    stream,
    write(text, buffered) {
      if (heldUntilEnd) heldToEnd.push(text);
      else if (buffered) buffered(() => writeNow(text));
      else writeNow(text);
    },
    close() {
      if (!open) return;
      if (heldUntilEnd === 'split') {
        writeNow(heldToEnd.shift() ?? '');
        setTimeout(() => (writeNow(heldToEnd.join('')), end()), 20);
        return;
      }
      if (heldUntilEnd) writeNow(heldToEnd.join(''));
      end();
    },
    abort() {
      open = false;
    },
  };
}
