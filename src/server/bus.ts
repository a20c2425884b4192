/**
 * Who a fanned-out event goes to: every session (neither `rooms` nor `sessions`), or the sessions in any of `rooms`
 * and those named in `sessions`, minus the session `except`. Room names and session ids are apart.
 */
export interface BusTarget {
  rooms?: readonly string[];
  sessions?: readonly string[];
  except?: string;
}

/** Whether a fanned-out event with `target` goes to `session`. */
export function targets(target: BusTarget, session: { id: string; inRoom(room: string): boolean }): boolean {
  if (session.id === target.except) return false;
  if (!target.rooms && !target.sessions) return true;
  return (target.sessions?.includes(session.id) ?? false) || (target.rooms?.some((r) => session.inRoom(r)) ?? false);
}

/** The application event carried by the bus. */
export interface BusMessage {
  e: string;
  d?: unknown;
}

/**
 * Delivers one event to this process's sessions. `position`: where the event sits in a bus every process reads in
 * the same order (a Redis stream); positions compare as strings, later is greater. A session records the last one it
 * took, so whoever carries it next takes the following ones exactly once. Undefined for a bus without positions.
 */
export type BusHandler = (target: BusTarget, message: BusMessage, position?: string) => void;

/** What catching a session up from its recorded position came to. `gap`: events after it are gone from the bus. */
export type CatchUpOutcome = 'caught_up' | 'gap';

/** Fan-out between server processes. The in-memory default delivers synchronously within this process. */
export interface Bus {
  publish(target: BusTarget, message: BusMessage): void;
  /** Returns an unsubscribe function. */
  subscribe(handler: BusHandler): () => void;
  /** A bus with positions: where this process has read up to (a new session starts there). */
  position?(): string;
  /**
   * A bus with positions: hands `deliver` the events after `from` up to where this process has read (the ones its
   * subscriber saw before the session was here), in order; the subscriber takes the session on from there.
   */
  catchUp?(from: string, deliver: BusHandler): Promise<CatchUpOutcome>;
  /**
   * A bus with positions: `listener` runs when this process finds events gone before it read them (Redis restarted,
   * or the stream was trimmed past it): its sessions may lack some and must be let go. Returns an unsubscribe function.
   */
  onLoss?(listener: () => void): () => void;
}

export class MemoryBus implements Bus {
  private readonly handlers = new Set<BusHandler>();
  publish(target: BusTarget, message: BusMessage): void {
    for (const h of [...this.handlers]) h(target, message);
  }
  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}
