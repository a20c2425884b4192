/**
 * A streaming parser for `text/event-stream`, following the WHATWG HTML Standard, §9.2.6 "Interpreting an event
 * stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 *
 * It takes decoded text in chunks of any size (a chunk may end inside a line, or between the CR and the LF of a
 * CRLF) and reports events, comments and `retry:` values through callbacks. Decoding bytes is the caller's job
 * (a streaming `TextDecoder`, which also drops a UTF-8 BOM); a leading U+FEFF in the text is dropped here too.
 *
 * Its work is linear in the input however it is chunked, and what it holds is bounded: a line or an event's data
 * longer than `maxBufferLength` stops it with an {@link SseLimitError}.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, or `'message'` when the block had none. */
  event: string;
  /** The `data:` lines joined by `\n`. */
  data: string;
  /** The last event ID buffer when the event was dispatched (`''` when no `id:` was seen on this stream). */
  id: string;
}

export interface SseParserCallbacks {
  onEvent(event: SseEvent): void;
  /** A `retry:` field with a valid value: the reconnection time, in ms. */
  onRetry?(ms: number): void;
  /** A comment line (`:` first), without the colon. Servers use them as keep-alives. */
  onComment?(text: string): void;
  /**
   * The stream's last event ID changed at a dispatch (a blank line). Called even when the block carried no data,
   * since the spec sets the last event ID string before it checks for data.
   */
  onLastEventId?(id: string): void;
}

export interface SseParser {
  /**
   * Parses the next piece of the stream. Throws {@link SseLimitError} when a line or an event's data outgrows the
   * limit, and again on every later call until {@link SseParser.reset}.
   */
  feed(chunk: string): void;
  /** Forgets everything of the current stream (a half line, a half-built event): call it before a new stream. */
  reset(): void;
}

export interface SseParserOptions {
  /**
   * The longest line, and the longest data of one event, the parser holds, in characters of decoded text (one per
   * byte for ASCII). A server that never ends a line cannot make it buffer without end. Default 1 MiB. A function is
   * asked at the start and again after every event (a transport raises it once the server announced its limit).
   */
  maxBufferLength?: number | (() => number);
}

export const DEFAULT_MAX_BUFFER_LENGTH = 1024 * 1024;

/** A line or an event's data outgrew {@link SseParserOptions.maxBufferLength}: the stream is not one we can read. */
export class SseLimitError extends Error {
  readonly code = 'sse_limit' as const;

  constructor(
    /** What outgrew the limit. */
    readonly what: 'line' | 'data',
    readonly limit: number,
  ) {
    super(`event stream ${what === 'line' ? 'line' : 'event data'} longer than the limit of ${limit} characters`);
    this.name = 'SseLimitError';
  }
}

const LF = 10;
const CR = 13;
const BOM = 0xfeff;
const DIGITS = /^[0-9]+$/;

export function createSseParser(callbacks: SseParserCallbacks, options: SseParserOptions = {}): SseParser {
  const given = options.maxBufferLength ?? DEFAULT_MAX_BUFFER_LENGTH;
  const currentLimit = typeof given == 'function' ? given : () => given;
  let limit = currentLimit();
  // Per-stream state, all set by reset(). Text is kept as pieces and joined once, when a line or an event is
  // complete, so every character is copied a bounded number of times however the stream is chunked.
  /** The pieces of an unfinished line, from earlier chunks. */
  let linePieces: string[] = [];
  let lineLength = 0;
  let atStreamStart = true;
  /** The previous chunk ended with a CR: an LF opening this chunk belongs to it (one CRLF, not two line ends). */
  let skipLf = false;
  /** The data buffer as its lines: the spec's buffer is each value followed by an LF. */
  let dataLines: string[] = [];
  let dataLength = 0;
  let eventType = '';
  let lastEventIdBuffer = '';
  let reportedId = '';
  let stopped: SseLimitError | undefined;

  function reset(): void {
    linePieces = [];
    lineLength = 0;
    atStreamStart = true;
    skipLf = false;
    // "When a stream is parsed, a data buffer, an event type buffer, and a last event ID buffer must be associated
    // with it. They must be initialized to the empty string."
    dataLines = [];
    dataLength = 0;
    eventType = '';
    lastEventIdBuffer = '';
    reportedId = '';
    stopped = undefined;
  }

  function stop(what: 'line' | 'data'): never {
    stopped = new SseLimitError(what, limit);
    linePieces = [];
    dataLines = [];
    throw stopped;
  }

  function feed(text: string): void {
    if (stopped !== undefined) throw stopped;
    let start = 0;
    if (atStreamStart && text.length > 0) {
      // "The stream must then be parsed by [...] stripping one leading U+FEFF BYTE ORDER MARK character if present."
      if (text.charCodeAt(0) === BOM) start = 1;
      atStreamStart = false;
    }
    if (skipLf && start < text.length) {
      if (text.charCodeAt(start) === LF) start++;
      skipLf = false;
    }
    // "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a single
    // U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE RETURN (CR) character."
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      if (lineLength + (i - start) > limit) stop('line');
      const tail = text.slice(start, i);
      let complete = tail;
      if (linePieces.length > 0) {
        linePieces.push(tail);
        complete = linePieces.join('');
      }
      linePieces = [];
      lineLength = 0;
      if (c === CR) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === LF) i++;
        } else {
          skipLf = true; // the LF of this CRLF may open the next chunk
        }
      }
      start = i + 1;
      processLine(complete);
    }
    if (start < text.length) {
      lineLength += text.length - start;
      if (lineLength > limit) stop('line');
      linePieces.push(start === 0 ? text : text.slice(start));
      // Tiny chunks (bytes passed on one at a time) would cost a string object per character: merge the pieces once
      // they average under 8 characters. The line grows by a seventh or more between merges, so all merges of a line
      // of length L copy about 8 L characters: still linear.
      if (linePieces.length > 64 && linePieces.length * 8 > lineLength) linePieces = [linePieces.join('')];
    }
  }

  function processLine(l: string): void {
    // "If the line is empty (a blank line): Dispatch the event."
    if (l === '') return dispatch();
    const colon = l.indexOf(':');
    // "If the line starts with a U+003A COLON character (:): Ignore the line." (a comment; reported as traffic)
    if (colon === 0) {
      callbacks.onComment?.(l.slice(1));
      return;
    }
    let field: string;
    let value: string;
    if (colon > 0) {
      // "Collect the characters on the line before the first U+003A COLON character (:), and let field be that
      // string. Collect the characters on the line after the first U+003A COLON character (:), and let value be
      // that string. If value starts with a U+0020 SPACE character, remove it from value."
      field = l.slice(0, colon);
      value = l.slice(colon + 1);
      if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    } else {
      // "Otherwise, the string is not empty but does not contain a U+003A COLON character (:): Process the field
      // using the whole line as the field name, and the empty string as the field value."
      field = l;
      value = '';
    }
    processField(field, value);
  }

  function processField(field: string, value: string): void {
    switch (field) {
      case 'event':
        // "Set the event type buffer to field value."
        eventType = value;
        return;
      case 'data':
        // "Append the field value to the data buffer, then append a single U+000A LINE FEED (LF) character."
        dataLength += value.length + 1;
        if (dataLength > limit) stop('data');
        dataLines.push(value);
        return;
      case 'id':
        // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to the field value.
        // Otherwise, ignore the field."
        if (!value.includes('\0')) lastEventIdBuffer = value;
        return;
      case 'retry':
        // "If the field value consists of only ASCII digits, then interpret the field value as an integer in base
        // ten, and set the event stream's reconnection time to that integer. Otherwise, ignore the field."
        // An empty value is ignored too, as browsers do (it names no time).
        if (DIGITS.test(value)) callbacks.onRetry?.(Number.parseInt(value, 10));
        return;
      default:
        // "Otherwise: The field is ignored."
        return;
    }
  }

  function dispatch(): void {
    // "1. Set the last event ID string of the event source to the value of the last event ID buffer."
    if (lastEventIdBuffer !== reportedId) {
      reportedId = lastEventIdBuffer;
      callbacks.onLastEventId?.(lastEventIdBuffer);
    }
    // "2. If the data buffer is an empty string, set the data buffer and the event type buffer to the empty string
    // and return."
    if (dataLines.length === 0) {
      eventType = '';
      return;
    }
    // "3. If the data buffer's last character is a U+000A LINE FEED (LF) character, then remove the last character
    // from the data buffer." It always is: the buffer is each value followed by an LF, so this is the values
    // joined by LFs.
    const body = dataLines.join('\n');
    // "5. Initialize event's type attribute to "message" [...] 6. If the event type buffer has a value other than
    // the empty string, change the type of the newly created event to equal the value of the event type buffer."
    const event = eventType === '' ? 'message' : eventType;
    // "7. Set the data buffer and the event type buffer to the empty string." (the last event ID buffer stays)
    dataLines = [];
    dataLength = 0;
    eventType = '';
    callbacks.onEvent({ event, data: body, id: lastEventIdBuffer });
    limit = currentLimit(); // the event may have announced a new limit (the welcome), for the lines after it
  }

  reset();
  return { feed, reset };
}
