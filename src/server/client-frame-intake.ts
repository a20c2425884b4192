import type { ClientFrame, EmitFrame, ReplyFrame, RequestFrame } from '../protocol/frames';
import type { SessionPartHost } from './session-hooks';
import type { SessionOutbox } from './session-outbox';
import type { EventHandler } from './types';
import { RESERVED } from './session-frames';
import { runClientFrame } from './client-frame-run';
import { warnPayloadChanges } from './payload-warnings';
import { encodeWithin, replyError } from './message-size';

/** What ClientFrameIntake needs of its session (not `live`: a frame recorded now has no handler here to run it). */
export interface IntakeHost extends SessionPartHost {
  /** Answers an `echo` on the connection it came on (unsequenced, not kept). */
  echo(n: number): void;
  handler(event: string): EventHandler | undefined;
  /** Where acks land and replies are numbered and sent (a reply is measured with the id it gets). */
  readonly outbox: Pick<SessionOutbox, 'next' | 'send' | 'ack'>;
  durable(): Promise<boolean>;
  journalFailed(err: unknown): void;
}

/**
 * A session's inbound `emit`/`req` frames: each runs once, in seq order. With a journal, a frame is recorded before
 * its handler runs and marked done after, so a process killed in between leaves it to the session's next holder.
 */
export class ClientFrameIntake {
  constructor(
    private readonly host: IntakeHost,
    /** Highest client seq accepted. */
    public accepted = 0,
  ) {}

  /**
   * Applies one inbound `emit`/`req`/`ack`/`echo` frame. Returns `accepted` (its handler runs), `duplicate` (re-ack, not
   * run), `gap` (dropped unacknowledged) or `other`.
   */
  receive(frame: ClientFrame): 'accepted' | 'duplicate' | 'gap' | 'other' {
    if (frame.t === 'ack') {
      this.host.outbox.ack(frame.id);
      return 'other';
    }
    if (frame.t === 'echo') {
      // Unsequenced and not kept: it measures the stream it travels on, so a replay would measure nothing.
      this.host.echo(frame.n);
      return 'other';
    }
    if (frame.t !== 'emit' && frame.t !== 'req') return 'other';
    return this.take(frame);
  }

  /** Accepts the next seq only: `duplicate` below it, `gap` above. */
  private take(frame: EmitFrame | RequestFrame): 'accepted' | 'duplicate' | 'gap' {
    const host = this.host;
    if (frame.seq <= this.accepted) return 'duplicate';
    if (frame.seq > this.accepted + 1) return 'gap';
    this.accepted = frame.seq;
    const journal = host.journal;
    const run = (): void => this.run(frame.t === 'req', frame.seq, frame.e, frame.d);
    if (!journal) {
      run();
      return 'accepted';
    }
    // Recorded first (with the frame, until its handler is done), run once that is durable: a session that moved to
    // another process meanwhile has the record refused here, and one recorded already (by a process this copy lagged
    // behind) is not run again. A process killed before the handler was done leaves the frame to the session's next
    // holder (`redeliver`).
    journal.accepted(host.sid, frame.seq, { seq: frame.seq, t: frame.t, e: frame.e, ...(frame.d === undefined ? {} : { d: frame.d }) }).then(
      (fresh) => {
        if (fresh) run();
      },
      (err: unknown) => host.journalFailed(err),
    );
    return 'accepted';
  }

  /** Restored and announced here: runs what a previous holder recorded but did not finish, before any newer frame. */
  redeliver(): void {
    const journal = this.host.journal;
    if (!journal?.unfinished) return;
    journal.unfinished(this.host.sid).then(
      (frames) => {
        // Let go meanwhile: whoever holds the session next reads them itself.
        for (const f of frames) if (this.host.state() === 'live') this.run(f.t === 'req', f.seq, f.e, f.d, true);
      },
      (err: unknown) => this.host.journalFailed(err),
    );
  }

  private run(isRequest: boolean, seq: number, event: string, data: unknown, redelivered = false): void {
    const { sid, logger } = this.host;
    const handler = RESERVED.has(event) ? undefined : this.host.handler(event);
    const send = (frame: ReplyFrame): void => {
      warnPayloadChanges('reply to', event, frame.d);
      const { text, bytes } = encodeWithin(frame, this.host.outbox.next, this.host.maxMessageBytes, `the reply to "${event}"`);
      this.host.outbox.send(frame, text, bytes);
    };
    const refusal = (error: unknown): { code: string; message: string } => replyError(error, logger, { sid, event });
    const done = (): void => this.handled(isRequest, seq);
    runClientFrame({ sid, isRequest, seq, event, data, redelivered, handler, send, refusal, done, logger });
  }

  /** A request is done once its reply is durable: if it never gets there, the next holder answers it again. */
  private handled(isRequest: boolean, seq: number): void {
    const journal = this.host.journal;
    const mark = journal?.handled?.bind(journal, this.host.sid, seq);
    if (mark) void (isRequest ? this.host.durable().then((ok) => ok && mark()) : mark());
  }
}
