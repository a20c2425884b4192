import { unencodableAt } from '../protocol/payload-check';

/** Every error code the server API throws, with the situation it stands for. */
export type RealtimeServerErrorCode =
  /**
   * Data that JSON cannot carry (a BigInt, a cycle, nesting deeper than the stack; the message names the place where it
   * can, `payload.n is a BigInt`): nothing was sent and no message id was used, so the client's stream has no hole.
   */
  | 'unencodable'
  /**
   * A message larger than `maxMessageBytes` (its size and the limit are in the message): nothing was queued and no
   * message id was used. A refused reply reaches its client as an error reply with this code.
   */
  | 'payload_too_large';

/** An error thrown by the server's API (`session.emit`, `reply`, `rt.emit`, ...), with a literal `code`. */
export class RealtimeServerError extends Error {
  readonly code: RealtimeServerErrorCode;

  constructor(code: RealtimeServerErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RealtimeServerError';
    this.code = code;
  }
}

/**
 * Runs an encoding; what JSON.stringify throws (TypeError for a BigInt or a cycle, RangeError for depth) becomes
 * `unencodable`, naming the place in `data` (the app's data the encoding carries) where it can: `payload.n is a BigInt`.
 */
export function encoded<T>(what: string, encode: () => T, data?: unknown): T {
  try {
    return encode();
  } catch (err) {
    if (err instanceof RealtimeServerError) throw err;
    // Walked only now, to name the place: a good payload costs only its encoding.
    const where = unencodableAt(data) ?? (err instanceof Error ? err.message : String(err));
    throw new RealtimeServerError('unencodable', `${what} cannot be encoded as JSON: ${where}`, { cause: err });
  }
}
