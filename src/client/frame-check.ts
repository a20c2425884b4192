import type { AckFrame, CloseFrame, MessageFrame, ReplyFrame, ServerFrame, WelcomeFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import { RealtimeError } from './errors';
import { errorFrameFailure } from './failure-policy';

/** The frames of an open connection that concern the session, not the connection. */
export type SessionFrame = MessageFrame | ReplyFrame | AckFrame | CloseFrame;

/** What a server frame means for the connection it came on. */
export type FrameVerdict =
  /** The welcome a connection opens with. */
  | { kind: 'welcome'; welcome: WelcomeFrame }
  /** For the session: delivered, acknowledged, or closed by the server. */
  | { kind: 'session'; frame: SessionFrame }
  /** Nothing to do but note the connection is alive (a heartbeat). */
  | { kind: 'none' }
  /** The connection failed. */
  | { kind: 'fail'; failure: TransportFailure }
  /** The server refused one frame of ours (400, 413): said, and the connection goes on. */
  | { kind: 'report'; error: RealtimeError };

/**
 * Checks a server frame against the protocol: a connection not open yet (`opened` false) may only welcome, once; an
 * error frame with a status fails the connection, except a refusal of one frame (400, 413).
 */
export function checkFrame(opened: boolean, frame: ServerFrame): FrameVerdict {
  if (!opened) {
    if (frame.t === 'welcome') return { kind: 'welcome', welcome: frame };
    return { kind: 'fail', failure: frame.t === 'error' ? errorFrameFailure(frame) : { kind: 'protocol', message: `expected a welcome frame, got "${frame.t}"` } };
  }
  switch (frame.t) {
    case 'msg':
    case 'reply':
    case 'ack':
    case 'close':
      return { kind: 'session', frame };
    case 'error':
      if (frame.status !== undefined && frame.status !== 400 && frame.status !== 413) return { kind: 'fail', failure: errorFrameFailure(frame) };
      return { kind: 'report', error: new RealtimeError('protocol', `server reported ${frame.code}: ${frame.message}`, { status: frame.status }) };
    case 'welcome':
      return { kind: 'fail', failure: { kind: 'protocol', message: 'second welcome frame on one connection' } };
    default:
      return { kind: 'none' }; // a heartbeat (ping)
  }
}
