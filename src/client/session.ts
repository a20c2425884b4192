import { type MessageFrame, type ReplyFrame, type ResumeFailure, type WelcomeFrame } from '../protocol/frames';
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
  /** The last of the client's sequence numbers the old session accepted (`welcome.prevAck`), when the server knew. */
  accepted?: number;
}

/** Where a session stands: its id, its secret, and the id of the last frame handed over. */
export interface SessionPoint {
  sid: string;
  secret: string;
  last: number;
}

/**
 * The server session as the client knows it (protocol mode): its id and secret, the server's limits, the last frame
 * handed to the app (inbound order and duplicates), and the acknowledgements owed for what arrived.
 */
export interface ClientSession {
  readonly id: string | null;
  /** The server's heartbeat interval, in ms (0 until a welcome said). */
  readonly heartbeatMs: number;
  readonly maxFrame: number;
  /** Id of the last sequenced frame handed to the app. */
  readonly lastDelivered: number;
  /**
   * What resumes this session: null before the first welcome. After it ended the next handshake still names it: the
   * server cannot resume it, but tells what it accepted (`prevAck`), so nothing it ran is sent again.
   */
  resumePoint(): SessionPoint | null;
  /** The server said the session is over (`close{session_ended}`): the next welcome starts a new one (`resync`). */
  markEnded(): void;
  /** Takes the session from a welcome; returns what was lost when it did not resume the one the client had. */
  adopt(welcome: WelcomeFrame): LostSession | null;
  /** The session moved to an upgraded connection, whose (probe) welcome names the heartbeat there and the secret. */
  moved(welcome: WelcomeFrame): void;
  /** Where a sequenced frame fits: the next one (now delivered), one already handed over, or after a gap. */
  place(frame: MessageFrame | ReplyFrame): 'next' | 'seen' | 'gap';
  /** A frame was handed to the app on the active connection: acknowledge every 32, or a second after the first. */
  delivered(): void;
  /** Cancels the pending ack (the connection it was for is gone); what is owed stays owed. */
  stopAckTimer(): void;
  /** Takes a session an earlier page of this tab kept (persist), or another tab ran, unless it has one already. */
  restore(point: SessionPoint): void;
  /** Takes every frame up to `id` as delivered (`resume: 'skip'` after a reload), and acknowledges it. */
  skipTo(id: number): void;
  /** Drops the session (`forget()`, a logout): the next handshake starts a new one. */
  forget(): void;
}

/** `sendAck` sends a cumulative ack on the active open connection; false when there is none. */
/** `changed` is called whenever what resumes the session changes (to persist it). */
export function createClientSession(scheduler: BackoffScheduler, sendAck: (id: number) => boolean, changed: () => void = () => {}): ClientSession {
  // State in closures rather than fields: the minifier shortens these names, it cannot shorten properties.
  let current: { sid: string; secret: string } | null = null;
  let ended = false;
  let heartbeatMs = 0;
  let maxFrame = DEFAULT_MAX_FRAME;
  let lastDelivered = 0;
  let unacked = 0;
  let cancelAckTimer: (() => void) | null = null;

  const stopAckTimer = (): void => {
    cancelAckTimer?.();
    cancelAckTimer = null;
  };
  /** Drops the owed acknowledgements (a new connection starts its own count). */
  const forgetAcks = (): void => {
    unacked = 0;
    stopAckTimer();
  };
  /** Sends what is owed, if anything; the timer, when armed, stays (re-arming it every 32 frames cost a stream more). */
  const sendOwed = (): void => {
    if (unacked > 0 && sendAck(lastDelivered)) unacked = 0;
  };
  const flushAck = (): void => {
    stopAckTimer();
    sendOwed();
  };

  return {
    get id() {
      return current?.sid ?? null;
    },
    get heartbeatMs() {
      return heartbeatMs;
    },
    get maxFrame() {
      return maxFrame;
    },
    get lastDelivered() {
      return lastDelivered;
    },
    resumePoint() {
      return current ? { ...current, last: lastDelivered } : null;
    },
    markEnded() {
      ended = true;
      changed();
    },
    adopt(welcome) {
      const previous = current;
      current = { sid: welcome.sid, secret: welcome.secret };
      heartbeatMs = welcome.hb;
      maxFrame = welcome.maxFrame;
      let lost: LostSession | null = null;
      if (previous && !welcome.resumed) {
        lost = { previousSessionId: previous.sid, reason: ended ? 'session_ended' : welcome.resumeFailed ?? 'unknown_session', accepted: welcome.prevAck };
        lastDelivered = 0;
        forgetAcks();
      }
      ended = false;
      changed();
      return lost;
    },
    moved(welcome) {
      heartbeatMs = welcome.hb;
      forgetAcks();
      // Every welcome names the secret to present next (the server gives a fresh one on each resume).
      if (current && welcome.sid === current.sid && welcome.secret !== current.secret) {
        current = { sid: current.sid, secret: welcome.secret };
        changed();
      }
    },
    place(frame) {
      if (frame.id <= lastDelivered) return 'seen';
      if (frame.id !== lastDelivered + 1) return 'gap';
      lastDelivered = frame.id;
      changed();
      return 'next';
    },
    delivered() {
      unacked++;
      if (unacked >= ACK_EVERY_FRAMES) sendOwed();
      // One timer at a time, armed by the first frame after it fired: what the 32s leave owed goes within a second.
      else if (!cancelAckTimer) cancelAckTimer = scheduler.schedule(flushAck, ACK_DELAY_MS);
    },
    stopAckTimer,
    restore(point) {
      if (current) return;
      current = { sid: point.sid, secret: point.secret };
      lastDelivered = point.last;
    },
    skipTo(id) {
      if (id <= lastDelivered) return;
      lastDelivered = id;
      changed();
      unacked++;
      flushAck();
    },
    forget() {
      current = null;
      lastDelivered = 0;
      forgetAcks();
      changed();
    },
  };
}
