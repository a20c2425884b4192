import type { BusMessage, BusTarget } from './bus';
import { warnPayloadChanges } from './payload-warnings';
import { utf8Length } from '../protocol/codec';
import { encoded } from './errors';
import { checkMessageSize } from './message-size';

/**
 * Fans an event out to every session, or to those selected by rooms and session ids (several calls select the
 * union), optionally excluding one. Room names and session ids are apart: a room named like a session id is a room.
 */
export class Broadcaster {
  constructor(
    private readonly publish: (target: BusTarget, message: BusMessage) => void,
    /** The largest message (`maxMessageBytes`). */
    private readonly maxMessageBytes: number,
    private readonly target: BusTarget = {},
  ) {}
  /** Narrows to the sessions that joined `room`. */
  to(room: string): Broadcaster {
    return new Broadcaster(this.publish, this.maxMessageBytes, { ...this.target, rooms: [...(this.target.rooms ?? []), room] });
  }
  /** Narrows to the session with id `sessionId` (on whichever process carries it). */
  toSession(sessionId: string): Broadcaster {
    return new Broadcaster(this.publish, this.maxMessageBytes, { ...this.target, sessions: [...(this.target.sessions ?? []), sessionId] });
  }
  /**
   * Throws `RealtimeServerError('unencodable')` for data JSON cannot carry, `RealtimeServerError('payload_too_large')`
   * for a message over `maxMessageBytes`; then no session gets it.
   */
  emit(event: string, data?: unknown): void {
    warnPayloadChanges('emit', event, data);
    // Measured once per fan-out (not per session), before anything is published.
    const bytes = encoded('the event data', () => utf8Length(JSON.stringify({ e: event, d: data })), data);
    checkMessageSize(`the event "${event}"`, bytes, this.maxMessageBytes);
    this.publish(this.target, data === undefined ? { e: event } : { e: event, d: data });
  }
}
