import type { AckFrame, CloseFrame, MessageFrame, ReplyFrame, ServerFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import { RealtimeError } from './errors';
import { errorFrameFailure } from './failure-policy';

/** The frames of an open connection that concern the session, not the connection. */
export type SessionFrame = MessageFrame | ReplyFrame | AckFrame | CloseFrame;

/**
 * Checks a server frame against the protocol; null when it is in order. A connection not open yet (`opened` false)
 * may only welcome, once: anything else fails it (a TransportFailure). An error frame with a status fails the
 * connection, except a refusal of one frame (400, 413, or none): that is only reported (a RealtimeError).
 */
export function frameProblem(opened: boolean, frame: ServerFrame): TransportFailure | RealtimeError | null {
  if (frame.t === 'error') {
    if (!opened || (frame.status !== undefined && frame.status !== 400 && frame.status !== 413)) return errorFrameFailure(frame);
    return new RealtimeError('protocol', `server reported ${frame.code}: ${frame.message}`, { status: frame.status });
  }
  if ((frame.t === 'welcome') === opened) {
    return { kind: 'protocol', message: opened ? 'second welcome frame on one connection' : `expected a welcome frame, got "${frame.t}"` };
  }
  return null;
}
