import type { MessageFrame, ReplyFrame } from '../../protocol/frames';
import type { BackoffScheduler } from '../scheduler';
import { createClientSession, type ClientSession } from '../session';

/** Where another tab left the session: its id, secret, and the id of the last frame passed on. */
export interface SessionPoint {
  sid: string;
  secret: string;
  last: number;
}

/**
 * The client session (session.ts) continued from where another tab left it. The session numbers what it delivers from
 * 1, so ids are shifted by `from.last` on the way in and out (handshake, acknowledgements), until the server starts
 * a new session. A resume the server refuses counts as the session lost, as it does for a lone client.
 *
 * Built on the session object by delegation (`Object.create`): what is not overridden here, present or added later,
 * is the session's own.
 */
export function continueSession(scheduler: BackoffScheduler, sendAck: (id: number) => boolean, from: SessionPoint | null): ClientSession {
  let offset = from?.last ?? 0;
  /** The session to resume until the first welcome answers for it. */
  let pending = from;
  const inner = createClientSession(scheduler, (id) => sendAck(id + offset));
  const session = Object.create(inner) as ClientSession;
  Object.defineProperties(session, {
    id: { get: () => inner.id ?? pending?.sid ?? null },
    lastDelivered: { get: () => inner.lastDelivered + offset },
  });
  return Object.assign(session, {
    resumePoint(): ReturnType<ClientSession['resumePoint']> {
      if (pending) return { ...pending };
      const point = inner.resumePoint();
      return point && { ...point, last: point.last + offset };
    },
    adopt(welcome: Parameters<ClientSession['adopt']>[0]): ReturnType<ClientSession['adopt']> {
      const resuming = pending;
      pending = null;
      const lost = inner.adopt(welcome);
      if (resuming && !welcome.resumed) {
        offset = 0;
        return { previousSessionId: resuming.sid, reason: welcome.resumeFailed ?? 'unknown_session', ...(welcome.prevAck === undefined ? {} : { accepted: welcome.prevAck }) };
      }
      if (lost) offset = 0;
      return lost;
    },
    place(frame: MessageFrame | ReplyFrame): ReturnType<ClientSession['place']> {
      return inner.place({ ...frame, id: frame.id - offset });
    },
  });
}
