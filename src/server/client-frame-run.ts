import type { ReplyFrame } from '../protocol/frames';
import { toWireError } from './session-frames';
import type { EventHandler, Logger, Reply } from './types';

/** One run of a client `emit`/`req` frame's handler, and what it needs of its session. */
export interface FrameRun {
  sid: string;
  isRequest: boolean;
  seq: number;
  event: string;
  data: unknown;
  /** The frame was recorded by a holder that may have run it before it died (see HandlerContext). */
  redelivered: boolean;
  /** Undefined: no handler (a request is answered `no_handler`). */
  handler: EventHandler | undefined;
  /**
   * Numbers and sends a reply (the session's sequenced path); throws `unencodable` for data JSON cannot carry,
   * `payload_too_large` for a reply over the message limit.
   */
  send(frame: ReplyFrame): void;
  /** What the client is told instead of a reply `send` refused. */
  refusal(error: unknown): { code: string; message: string };
  logger: Logger;
  /**
   * The handler is done, once: an emit's handler returned (or its promise settled), a request was replied to. With a
   * journal, the frame's record goes then, so a later holder never runs it again.
   */
  done(): void;
}

/** Runs a client frame's handler: a reply at most once, a handler that throws or rejects answers `server_error`. */
export function runClientFrame(r: FrameRun): void {
  const { seq } = r;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    r.done();
  };
  let replied = false;
  const reply: Reply = (d, err) => {
    if (replied || !r.isRequest) return;
    replied = true;
    const frame: ReplyFrame = err !== undefined && err !== null ? { t: 'reply', id: 0, re: seq, err: toWireError(err) } : d === undefined ? { t: 'reply', id: 0, re: seq } : { t: 'reply', id: 0, re: seq, d };
    try {
      try {
        r.send(frame);
      } catch (error) {
        // The request fails for its client (no id was used), and the handler hears why.
        r.send({ t: 'reply', id: 0, re: seq, err: r.refusal(error) });
        throw error;
      }
    } finally {
      finish();
    }
  };
  if (!r.handler) {
    if (r.isRequest) reply(undefined, { code: 'no_handler', message: `no handler for "${r.event}"` });
    return finish();
  }
  const fail = (err: unknown): void => {
    r.logger.error('event handler failed', { sid: r.sid, event: r.event, err });
    reply(undefined, { code: 'server_error', message: err instanceof Error ? err.message : String(err) });
  };
  // An emit is done when its handler is; a request when it is replied to (its reply is what must not be lost).
  const settled = (): void => {
    if (!r.isRequest) finish();
  };
  try {
    const result = r.handler(r.data, reply, { sessionId: r.sid, seq, id: `${r.sid}:${seq}`, redelivered: r.redelivered });
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(settled, (err: unknown) => {
        fail(err);
        settled();
      });
    } else settled();
  } catch (err) {
    fail(err);
    settled();
  }
}
