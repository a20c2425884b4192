/**
 * The event-stream parser's bounds and cost: a line or an event's data longer than the limit stops it with an
 * SseLimitError, however the stream is chunked; anything shorter parses as usual; and the string work it does is
 * proportional to its input (counted, not timed).
 */
import { describe, expect, it } from 'vitest';
import { createSseParser, DEFAULT_MAX_BUFFER_LENGTH, SseLimitError, type SseEvent, type SseParserOptions } from '../../src/transports/sse-parser';

const MiB = 1024 * 1024;

function parser(options?: SseParserOptions): { feed(chunk: string): void; reset(): void; events: SseEvent[] } {
  const events: SseEvent[] = [];
  return { ...createSseParser({ onEvent: (e) => events.push(e) }, options), events };
}

/** Feeds `text` in chunks of `size` characters; returns how many characters went in before the parser threw. */
function feedUntilThrow(p: { feed(chunk: string): void }, text: string, size: number): { fed: number; error: unknown } {
  for (let at = 0; at < text.length; at += size) {
    try {
      p.feed(text.slice(at, at + size));
    } catch (error) {
      return { fed: at + size, error };
    }
  }
  return { fed: text.length, error: undefined };
}

describe('SSE parser: buffer bound', () => {
  it('defaults to 1 MiB', () => {
    expect(DEFAULT_MAX_BUFFER_LENGTH).toBe(MiB);
  });

  // A 4 MB line with no end: the parser gives up once it holds more than the limit, not at the end of the line.
  it.each([
    ['1-character chunks', 1],
    ['64 KB chunks', 64 * 1024],
    ['one chunk', 4 * MiB + 6],
  ])('stops a 4 MB line delivered in %s with an SseLimitError naming the limit', (_name, size) => {
    const p = parser();
    const { fed, error } = feedUntilThrow(p, 'data: ' + 'x'.repeat(4 * MiB), size);
    expect(error).toBeInstanceOf(SseLimitError);
    expect(error).toMatchObject({ code: 'sse_limit', what: 'line', limit: MiB });
    expect((error as Error).message).toBe('event stream line longer than the limit of 1048576 characters');
    expect(fed).toBeLessThanOrEqual(Math.max(size, MiB + size));
    expect(p.events).toEqual([]);
  });

  it('stops a line that ends, but too late, in the chunk that ends it', () => {
    const p = parser({ maxBufferLength: 10 });
    expect(() => p.feed('data: 12345\n\n')).toThrow('event stream line longer than the limit of 10 characters');
  });

  it('accepts a line of exactly the limit', () => {
    const p = parser({ maxBufferLength: 10 });
    p.feed('data: 1234\n\n');
    expect(p.events.map((e) => e.data)).toEqual(['1234']);
  });

  it('bounds the data of one event too: many short data lines', () => {
    const p = parser({ maxBufferLength: 100 });
    // Each line adds its value and an LF: 10 lines of 9 characters make 100, the 11th goes over.
    const { error } = feedUntilThrow(p, 'data: 123456789\n'.repeat(11) + '\n', 1);
    expect(error).toMatchObject({ what: 'data', limit: 100 });
    expect((error as Error).message).toBe('event stream event data longer than the limit of 100 characters');
  });

  it('counts data per event: the buffer empties at each dispatch', () => {
    const p = parser({ maxBufferLength: 100 });
    const block = 'data: 123456789\n'.repeat(10) + '\n';
    p.feed(block + block);
    expect(p.events).toHaveLength(2);
  });

  it('throws again on every later feed until reset(), then parses a new stream', () => {
    const p = parser({ maxBufferLength: 10 });
    expect(() => p.feed('data: 1234567890')).toThrow(SseLimitError);
    expect(() => p.feed('\n\n')).toThrow(SseLimitError);
    p.reset();
    p.feed('data: ok\n\n');
    expect(p.events.map((e) => e.data)).toEqual(['ok']);
  });

  it('parses a long line below the limit split into many chunks', () => {
    const long = 'é'.repeat(MiB - 10);
    for (const size of [1, 7, 1000, 64 * 1024]) {
      const p = parser();
      const text = `event: big\ndata: ${long}\r\n\r\ndata: after\n\n`;
      for (let at = 0; at < text.length; at += size) p.feed(text.slice(at, at + size));
      expect(p.events.map((e) => [e.event, e.data.length])).toEqual([
        ['big', long.length],
        ['message', 5],
      ]);
      expect(p.events[0]!.data === long).toBe(true);
    }
  });
});

/**
 * Counts the characters the string operations the parser uses (slice, join, concat, substring) produce while `run`
 * runs: the work of building lines and events, whatever the chunking.
 */
function charactersBuilt(run: () => void): number {
  let built = 0;
  const slice = String.prototype.slice;
  const substring = String.prototype.substring;
  const concat = String.prototype.concat;
  const join = Array.prototype.join;
  /* eslint-disable no-extend-native -- restored in `finally` */
  String.prototype.slice = function (this: string, ...args: Parameters<string['slice']>) {
    const out = slice.apply(this, args);
    built += out.length;
    return out;
  };
  String.prototype.substring = function (this: string, ...args: Parameters<string['substring']>) {
    const out = substring.apply(this, args);
    built += out.length;
    return out;
  };
  String.prototype.concat = function (this: string, ...args: string[]) {
    const out = concat.apply(this, args);
    built += out.length;
    return out;
  };
  Array.prototype.join = function (this: unknown[], separator?: string) {
    const out = join.call(this, separator);
    built += out.length;
    return out;
  };
  try {
    run();
  } finally {
    String.prototype.slice = slice;
    String.prototype.substring = substring;
    String.prototype.concat = concat;
    Array.prototype.join = join;
  }
  return built;
}

describe('SSE parser: work proportional to the input', () => {
  /** One event whose single data line is `n` characters, in one-character chunks (the worst case for `+=`). */
  function oneLongLine(n: number): number {
    const chunks = [...`data: ${'x'.repeat(n)}\n\n`];
    const p = parser();
    const built = charactersBuilt(() => {
      for (const c of chunks) p.feed(c);
    });
    expect(p.events[0]!.data.length).toBe(n);
    return built;
  }

  /** `n` small events, in one-character chunks. */
  function manyEvents(n: number): number {
    const chunks = [...Array.from({ length: n }, (_, i) => `id: ${i % 10}\ndata: ${i % 10}\n\n`).join('')];
    const p = parser();
    const built = charactersBuilt(() => {
      for (const c of chunks) p.feed(c);
    });
    expect(p.events).toHaveLength(n);
    return built;
  }

  it('builds a line fed one character at a time with a bounded number of copies per character', () => {
    const small = oneLongLine(50_000);
    const large = oneLongLine(200_000);
    // Linear: four times the input, about four times the work (quadratic would be sixteen), and a few copies per
    // character at most.
    expect(large / small).toBeLessThan(4.5);
    expect(large).toBeLessThan(20 * 200_000);
  });

  it('parses many events fed one character at a time with work proportional to their number', () => {
    const small = manyEvents(5_000);
    const large = manyEvents(20_000);
    expect(large / small).toBeLessThan(4.5);
  });

  it('parses 200 000 one-character chunks of a valid stream', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `data: ${i}\n\n`).join('').slice(0, 200_000);
    const p = parser();
    for (const c of text) p.feed(c);
    expect(p.events.length).toBeGreaterThan(15_000);
    expect(p.events.map((e) => Number(e.data))).toEqual(Array.from({ length: p.events.length }, (_, i) => i));
  });
});
