import type { BusMessage, BusTarget } from './bus';
import { warnPayloadChanges } from './payload-warnings';

/**
 * Fans an event out to every session, or to those selected by rooms and session ids (several calls select the
 * union), optionally excluding one. Room names and session ids are apart: a room named like a session id is a room.
 */
export class Broadcaster {
  constructor(
    private readonly publish: (target: BusTarget, message: BusMessage) => void,
    private readonly target: BusTarget = {},
  ) {}
  /** Narrows to the sessions that joined `room`. */
  to(room: string): Broadcaster {
    return new Broadcaster(this.publish, { ...this.target, rooms: [...(this.target.rooms ?? []), room] });
  }
  /** Narrows to the session with id `sessionId` (on whichever process carries it). */
  toSession(sessionId: string): Broadcaster {
    return new Broadcaster(this.publish, { ...this.target, sessions: [...(this.target.sessions ?? []), sessionId] });
  }
  /** Throws `RealtimeServerError('unencodable')` for data JSON cannot carry; then no session gets it. */
  emit(event: string, data?: unknown): void {
    warnPayloadChanges('emit', event, data);
    this.publish(this.target, data === undefined ? { e: event } : { e: event, d: data });
  }
}
