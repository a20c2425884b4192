import type { ClientFrame, SequencedFrame } from '../protocol/frames';
import { encodeFrame, utf8Length } from '../protocol/codec';
import { encoded, RealtimeServerError } from './errors';
import type { Logger } from './types';

/**
 * Message sizes as the limit counts them (src/protocol/limits.ts): a frame's UTF-8 bytes less its type and numbers,
 * so a send that already has the frame's text pays no second encoding.
 */

const digits = (n: number): number => String(n).length;

/**
 * Bytes of the message a frame's text of `frameBytes` carries: `{"t":"msg","id":7,"e":…}` less `"t":"msg","id":7,`
 * is `{"e":…}`; a reply less `"t":"reply","id":7,"re":3,` is `{"d":…}` (or `{"err":…}`).
 */
export function messageBytesOf(frame: SequencedFrame, frameBytes: number): number {
  const envelope = frame.t === 'msg' ? '"t":"msg","id":,'.length + digits(frame.id) : '"t":"reply","id":,"re":,'.length + digits(frame.id) + digits(frame.re);
  return Math.max(2, frameBytes - envelope);
}

/** Throws `payload_too_large` naming the size and the limit when `bytes` is over it. */
export function checkMessageSize(what: string, bytes: number, limit: number): void {
  if (bytes <= limit) return;
  throw new RealtimeServerError('payload_too_large', `${what} is ${bytes} bytes; the limit (maxMessageBytes) is ${limit}`);
}

/**
 * Numbers a frame `id`, encodes it and checks its message against `limit` (none: no limit), before anything is sent:
 * throws `unencodable` for data JSON cannot carry, `payload_too_large` for a message over the limit. `what` names it.
 */
export function encodeWithin(frame: SequencedFrame, id: number, limit = Infinity, what: string, encode: (f: SequencedFrame) => string = encodeFrame): { text: string; bytes: number } {
  frame.id = id;
  const text = encoded(frame.t === 'reply' ? 'the reply' : 'the event data', () => encode(frame), frame.d);
  const bytes = Buffer.byteLength(text); // the replay buffer counts it too: measured once
  checkMessageSize(what, messageBytesOf(frame, bytes), limit);
  return { text, bytes };
}

/**
 * The size of an inbound `emit`/`req` whose frame text took `textBytes`, when its message is over `limit` (else
 * null). The text bounds the message from above, so only a frame that may be over it is measured again.
 */
export function inboundOverLimit(frame: ClientFrame, textBytes: number, limit: number): number | null {
  if (textBytes <= limit || (frame.t !== 'emit' && frame.t !== 'req')) return null;
  const bytes = utf8Length(JSON.stringify({ e: frame.e, d: frame.d }));
  return bytes > limit ? bytes : null;
}

/**
 * What the client of a request whose reply could not be sent is told instead: `payload_too_large` (logged: the handler
 * may catch it, the server still says why its client got no reply), else `server_error`.
 */
export function replyError(error: unknown, logger: Logger, meta: Record<string, unknown>): { code: string; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof RealtimeServerError && error.code === 'payload_too_large')) return { code: 'server_error', message };
  logger.warn('reply refused: larger than maxMessageBytes', { ...meta, message });
  return { code: 'payload_too_large', message };
}
