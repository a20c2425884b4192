/**
 * Who a fanned-out event goes to: every session (no `rooms`), or the sessions in any of `rooms` (a session is
 * implicitly in a room named after its own id), minus the session `except`.
 */
export interface BusTarget {
  rooms?: readonly string[];
  except?: string;
}

/** The application event carried by the bus. */
export interface BusMessage {
  e: string;
  d?: unknown;
}

export type BusHandler = (target: BusTarget, message: BusMessage) => void;

/** Fan-out between server processes. The in-memory default delivers synchronously within this process. */
export interface Bus {
  publish(target: BusTarget, message: BusMessage): void;
  /** Returns an unsubscribe function. */
  subscribe(handler: BusHandler): () => void;
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
