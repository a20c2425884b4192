/** Every error code the client raises, with the situation it stands for. */
export type RealtimeErrorCode =
  /** A request got no reply in time. */
  | 'timeout'
  /** The server refused the credential, even after one refresh from the `auth` provider. */
  | 'unauthorized'
  /**
   * The server does not accept this page's origin (its `cors.origins`, or its view of its own origin behind a
   * proxy: `trustProxy`). The message names the origin; retrying cannot help.
   */
  | 'origin_rejected'
  /** The server answered a 4xx that retrying cannot fix (other than 401/403/429). */
  | 'rejected'
  /** The outbox is full (count or bytes): the emit was not accepted. */
  | 'outbox_full'
  /** A frame is larger than the server's `maxFrame`. */
  | 'payload_too_large'
  /** An emit's time-to-live ran out before it could be sent. */
  | 'expired'
  /** The client was closed while the operation was pending, or is closed. */
  | 'closed'
  /**
   * A caller passed something invalid (bad URL, empty event name, bad option, a payload JSON cannot carry: the message
   * names the place, `payload.items[3].at is a BigInt`).
   */
  | 'invalid_argument'
  /** The server's request handler answered with an error. */
  | 'server_error'
  /** The server broke the protocol (malformed frame, gap it cannot explain). */
  | 'protocol'
  /**
   * Every transport failed once more (a whole fallback walk): reported once per walk, naming each transport's
   * reason and the delay before the next walk. Informational: the client keeps trying.
   */
  | 'transport_failed'
  /** `persist` could not read or write its store (private mode, quota, no IndexedDB): the client goes on in memory. */
  | 'storage_failed';

export class RealtimeError extends Error {
  readonly code: RealtimeErrorCode;
  /** HTTP status behind the error, when there was one. */
  readonly status?: number;

  constructor(code: RealtimeErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RealtimeError';
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
  }
}
