import { targets, type BusTarget } from './bus';
import type { PreparedMessage } from './prepared-message';
import type { Session } from './session';

/**
 * Delivers one bus event to one session if it targets it. With a position, each session takes each bus event once:
 * one it already took (it was restored from a carrier that had read further than this process) is passed over, and
 * the journal records how far it got.
 */
export function deliverTo(s: Session, target: BusTarget, message: PreparedMessage, position?: string): void {
  if (position !== undefined) {
    if (s.busPosition !== undefined && s.busPosition >= position) return;
    s.busPosition = position;
  }
  if (targets(target, s)) s.emitPrepared(message);
}
