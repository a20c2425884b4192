/**
 * The event-stream parser against the WHATWG rules (HTML Standard §9.2.6), each rule on its own, and every way of
 * splitting a stream into chunks giving the same result.
 */
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../../src/transports/sse-parser';

interface Log {
  events: SseEvent[];
  retries: number[];
  comments: string[];
  ids: string[];
}

function parse(chunks: readonly string[]): Log {
  const log: Log = { events: [], retries: [], comments: [], ids: [] };
  const parser = createSseParser({
    onEvent: (e) => log.events.push(e),
    onRetry: (ms) => log.retries.push(ms),
    onComment: (c) => log.comments.push(c),
    onLastEventId: (id) => log.ids.push(id),
  });
  for (const c of chunks) parser.feed(c);
  return log;
}

const whole = (text: string): Log => parse([text]);

/** Every split into two chunks, every split into one-character chunks. */
function splits(text: string): string[][] {
  const out: string[][] = [[...text]];
  for (let i = 0; i <= text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe('SSE parser: events', () => {
  it('dispatches an unnamed event as "message" on a blank line', () => {
    expect(whole('data: hello\n\n').events).toEqual([{ event: 'message', data: 'hello', id: '' }]);
  });

  it('does not dispatch until the blank line', () => {
    expect(whole('data: hello\n').events).toEqual([]);
    expect(whole('data: hello').events).toEqual([]);
  });

  it('names an event with event:, and the name does not carry over to the next block', () => {
    expect(whole('event: tick\ndata: 1\n\ndata: 2\n\n').events).toEqual([
      { event: 'tick', data: '1', id: '' },
      { event: 'message', data: '2', id: '' },
    ]);
  });

  it('joins data lines with \\n and removes only the final \\n', () => {
    expect(whole('data: a\ndata: b\ndata:\ndata: c\n\n').events[0]!.data).toBe('a\nb\n\nc');
    expect(whole('data:\ndata:\n\n').events[0]!.data).toBe('\n');
  });

  it('does not dispatch when the data buffer is empty, and clears the event type then', () => {
    const log = whole('event: lonely\n\ndata: x\n\n');
    expect(log.events).toEqual([{ event: 'message', data: 'x', id: '' }]);
    expect(whole('event: e\nid: 3\n\n\n\n').events).toEqual([]);
  });

  it('dispatches data: with an empty value (one "data" line with no value is a data buffer of "\\n")', () => {
    expect(whole('data\n\n').events).toEqual([{ event: 'message', data: '', id: '' }]);
    expect(whole('data:\n\n').events).toEqual([{ event: 'message', data: '', id: '' }]);
  });

  it('treats a field without a colon as a field with an empty value', () => {
    expect(whole('event\ndata: x\n\n').events[0]!.event).toBe('message');
    expect(whole('id\ndata: x\n\n').events[0]!.id).toBe('');
  });

  it('removes exactly one leading space after the colon', () => {
    expect(whole('data:x\n\n').events[0]!.data).toBe('x');
    expect(whole('data: x\n\n').events[0]!.data).toBe('x');
    expect(whole('data:  x \n\n').events[0]!.data).toBe(' x ');
    expect(whole('data:\tx\n\n').events[0]!.data).toBe('\tx');
    expect(whole('event:  spaced\ndata: 1\n\n').events[0]!.event).toBe(' spaced');
  });

  it('splits only at the first colon', () => {
    expect(whole('data: a:b: c\n\n').events[0]!.data).toBe('a:b: c');
  });

  it('ignores unknown fields and field names in another case', () => {
    expect(whole('foo: bar\nDATA: no\nEvent: no\ndata: yes\n\n').events).toEqual([{ event: 'message', data: 'yes', id: '' }]);
  });

  it('ignores a field name with a trailing space (" data" is not "data")', () => {
    expect(whole('data : x\ndata: y\n\n').events[0]!.data).toBe('y');
  });
});

describe('SSE parser: line endings', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('accepts %s', (_name, nl) => {
    const text = `: c${nl}event: e${nl}data: 1${nl}data: 2${nl}id: 7${nl}retry: 50${nl}${nl}data: 3${nl}${nl}`;
    const log = whole(text);
    expect(log.events).toEqual([
      { event: 'e', data: '1\n2', id: '7' },
      { event: 'message', data: '3', id: '7' },
    ]);
    expect(log.comments).toEqual([' c']);
    expect(log.retries).toEqual([50]);
  });

  it('accepts mixed line endings in one stream', () => {
    expect(whole('data: a\rdata: b\r\ndata: c\n\r\n').events).toEqual([{ event: 'message', data: 'a\nb\nc', id: '' }]);
  });

  it('treats CR CR as two line ends (a blank line) and LF CR likewise', () => {
    expect(whole('data: a\r\rdata: b\n\rdata: c\r\n\r\n').events.map((e) => e.data)).toEqual(['a', 'b', 'c']);
  });

  it('gives the same result for every split into chunks, CRLF split between chunks included', () => {
    const text = '\uFEFF: hi\r\nevent: named\r\ndata: {"a":1}\r\nid: 1\r\nretry: 200\r\n\r\ndata: x\rdata: y\r\r: z\ndata: last\n\n';
    const expected = whole(text);
    expect(expected.events).toHaveLength(3);
    for (const chunks of splits(text)) expect(parse(chunks)).toEqual(expected);
  });

  it('does not swallow an LF that follows a CR-terminated line across chunks as a second blank line', () => {
    // "data: a\r" + "\n" + "\n": one CRLF then one LF: a single dispatch.
    expect(parse(['data: a\r', '\n', '\n']).events).toEqual([{ event: 'message', data: 'a', id: '' }]);
    // "data: a\r" + "\r": two line ends, the second a blank line.
    expect(parse(['data: a\r', '\r']).events).toEqual([{ event: 'message', data: 'a', id: '' }]);
    // "data: a\r" + "" + "\n\n": an empty chunk in between changes nothing.
    expect(parse(['data: a\r', '', '\n', '\n']).events).toHaveLength(1);
  });
});

describe('SSE parser: BOM', () => {
  it('strips one leading U+FEFF', () => {
    expect(whole('\uFEFFdata: x\n\n').events).toEqual([{ event: 'message', data: 'x', id: '' }]);
  });

  it('strips only one: a second BOM makes the first field name unknown', () => {
    expect(whole('\uFEFF\uFEFFdata: x\n\ndata: y\n\n').events.map((e) => e.data)).toEqual(['y']);
  });

  it('does not strip a BOM in the middle of the stream', () => {
    expect(parse(['data: x\n\n', '\uFEFFdata: y\n\n']).events.map((e) => e.data)).toEqual(['x']);
  });

  it('strips a BOM that arrives in its own first chunk after empty chunks', () => {
    expect(parse(['', '\uFEFF', 'data: x\n\n']).events.map((e) => e.data)).toEqual(['x']);
  });
});

describe('SSE parser: comments', () => {
  it('reports comment lines without the colon and dispatches nothing for them', () => {
    const log = whole(': hi\n:\n::x\ndata: 1\n: between\n\n');
    expect(log.comments).toEqual([' hi', '', ':x', ' between']);
    expect(log.events).toEqual([{ event: 'message', data: '1', id: '' }]);
  });
});

describe('SSE parser: id', () => {
  it('keeps the last event id across events until another id: changes it', () => {
    const log = whole('id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n');
    expect(log.events.map((e) => e.id)).toEqual(['1', '1', '2']);
    expect(log.ids).toEqual(['1', '2']);
  });

  it('resets the last event id with an empty id:', () => {
    const log = whole('id: 1\ndata: a\n\nid\ndata: b\n\n');
    expect(log.events.map((e) => e.id)).toEqual(['1', '']);
    expect(log.ids).toEqual(['1', '']);
  });

  it('ignores an id containing NULL', () => {
    const log = whole('id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n');
    expect(log.events.map((e) => e.id)).toEqual(['1', '1']);
  });

  it('sets the last event id at a dispatch even when the block has no data', () => {
    const log = whole('id: 9\n\n');
    expect(log.events).toEqual([]);
    expect(log.ids).toEqual(['9']);
  });

  it('does not report an id whose block was never finished', () => {
    expect(whole('id: 9\ndata: x\n').ids).toEqual([]);
  });

  it('keeps an id with spaces and colons as given (one leading space removed)', () => {
    expect(whole('id:  a:b \ndata: x\n\n').events[0]!.id).toBe(' a:b ');
  });
});

describe('SSE parser: retry', () => {
  it('accepts only ASCII digits', () => {
    expect(whole('retry: 1500\n').retries).toEqual([1500]);
    expect(whole('retry: 0\n').retries).toEqual([0]);
    expect(whole('retry: 007\n').retries).toEqual([7]);
    for (const bad of ['retry: -1\n', 'retry: 1.5\n', 'retry: 10ms\n', 'retry:  10\n', 'retry: 1e3\n', 'retry: \n', 'retry\n', 'retry: ١٢\n']) {
      expect(whole(bad).retries, bad).toEqual([]);
    }
  });

  it('applies retry at once, without waiting for a dispatch, and dispatches nothing for it', () => {
    const log = whole('retry: 300\n');
    expect(log.retries).toEqual([300]);
    expect(log.events).toEqual([]);
  });
});

describe('SSE parser: reset', () => {
  it('drops a half line and a half-built event', () => {
    const log: SseEvent[] = [];
    const parser = createSseParser({ onEvent: (e) => log.push(e) });
    parser.feed('event: x\ndata: half\nda');
    parser.reset();
    parser.feed('ta: lost\n\ndata: whole\n\n'); // "ta" is an unknown field now, not the rest of "data"
    expect(log).toEqual([{ event: 'message', data: 'whole', id: '' }]);
  });

  it('starts a new stream: the last event id buffer is empty again, and a BOM is stripped again', () => {
    const log: SseEvent[] = [];
    const parser = createSseParser({ onEvent: (e) => log.push(e) });
    parser.feed('id: 5\ndata: a\n\n');
    parser.reset();
    parser.feed('\uFEFFdata: b\n\n');
    expect(log).toEqual([
      { event: 'message', data: 'a', id: '5' },
      { event: 'message', data: 'b', id: '' },
    ]);
  });

  it('forgets a pending CR: an LF opening the next stream is a line end of its own', () => {
    const log: SseEvent[] = [];
    const parser = createSseParser({ onEvent: (e) => log.push(e) });
    parser.feed('data: a\r');
    parser.reset();
    parser.feed('data: b\n\n');
    expect(log.map((e) => e.data)).toEqual(['b']);
  });
});

describe('SSE parser: robustness', () => {
  it('keeps non-ASCII text and long lines intact', () => {
    const long = 'x'.repeat(100_000);
    expect(whole(`data: héllo ✓ 😀\n\ndata: ${long}\n\n`).events.map((e) => e.data)).toEqual(['héllo ✓ 😀', long]);
  });

  it('handles many events in one chunk in order', () => {
    const text = Array.from({ length: 500 }, (_, i) => `id: ${i}\ndata: ${i}\n\n`).join('');
    const log = whole(text);
    expect(log.events.map((e) => Number(e.data))).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(log.events.at(-1)!.id).toBe('499');
  });
});
