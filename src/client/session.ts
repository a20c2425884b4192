import { QUERY, type MessageFrame, type ReplyFrame, type ResumeFailure, type WelcomeFrame } from '../protocol/frames';
import type { BackoffScheduler } from './scheduler';

/** Client acknowledgements: after this many delivered frames, or this long after the first unacknowledged one. */
const ACK_EVERY_FRAMES = 32;
const ACK_DELAY_MS = 1000;
/** Largest frame accepted before the server has announced its own limit. */
const DEFAULT_MAX_FRAME = 1024 * 1024;

/** A welcome that did not resume the session the client had: what it lost, for the `resync` event. */
export interface LostSession {
  previousSessionId: string;
  reason: ResumeFailure | 'session_ended';
}

/**
 * The server session as the client knows it (protocol mode): its id and secret, the server's limits, the last frame
 * handed to the app (inbound order and duplicates), and the acknowledgements owed for what arrived.
 */
export class ClientSession {
  private current: { sid: string; secret: string } | null = null;
  /** The server said the session is over (`close{session_ended}`): the next handshake must not try to resume it. */
  private ended = false;
  heartbeatMs = 0;
  maxFrame = DEFAULT_MAX_FRAME;
  /** Id of the last sequenced frame handed to the app. */
  lastDelivered = 0;
  private unacked = 0;
  private cancelAckTimer: (() => void) | null = null;

  constructor(
    private readonly scheduler: BackoffScheduler,
    /** Sends a cumulative ack on the active open connection; false when there is none. */
    private readonly sendAck: (id: number) => boolean,
  ) {}

  get id(): string | null {
    return this.current?.sid ?? null;
  }

  /** The handshake parameters that resume this session (none before the first welcome or after it ended). */
  resumeQuery(): Record<string, string> {
    if (!this.current || this.ended) return {};
    return { [QUERY.session]: this.current.sid, [QUERY.secret]: this.current.secret, [QUERY.last]: String(this.lastDelivered) };
  }

  markEnded(): void {
    this.ended = true;
  }

  /** Takes the session from a welcome; returns what was lost when it did not resume the one the client had. */
  adopt(welcome: WelcomeFrame): LostSession | null {
    const previous = this.current;
    this.current = { sid: welcome.sid, secret: welcome.secret };
    this.heartbeatMs = welcome.hb;
    this.maxFrame = welcome.maxFrame;
    let lost: LostSession | null = null;
    if (previous && !welcome.resumed) {
      lost = { previousSessionId: previous.sid, reason: this.ended ? 'session_ended' : welcome.resumeFailed ?? 'unknown_session' };
      this.lastDelivered = 0;
      this.forgetAcks();
    }
    this.ended = false;
    return lost;
  }

  /** Where a sequenced frame fits: the next one, one already handed over (replay overlap), or after a gap. */
  place(frame: MessageFrame | ReplyFrame): 'next' | 'seen' | 'gap' {
    if (frame.id <= this.lastDelivered) return 'seen';
    if (frame.id !== this.lastDelivered + 1) return 'gap';
    this.lastDelivered = frame.id;
    return 'next';
  }

  /** A frame was handed to the app on the active connection: acknowledge every 32, or a second after the first. */
  delivered(): void {
    this.unacked++;
    if (this.unacked >= ACK_EVERY_FRAMES) this.flushAck();
    else if (!this.cancelAckTimer) this.cancelAckTimer = this.scheduler.schedule(() => this.flushAck(), ACK_DELAY_MS);
  }

  /** Drops the owed acknowledgements (a new connection starts its own count). */
  forgetAcks(): void {
    this.unacked = 0;
    this.stopAckTimer();
  }

  /** Cancels the pending ack (the connection it was for is gone); what is owed stays owed. */
  stopAckTimer(): void {
    this.cancelAckTimer?.();
    this.cancelAckTimer = null;
  }

  private flushAck(): void {
    this.stopAckTimer();
    if (this.unacked === 0) return;
    if (this.sendAck(this.lastDelivered)) this.unacked = 0;
  }
}
