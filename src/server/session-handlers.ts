import type { DisconnectReason, EventHandler, Logger } from './types';

type DisconnectListener = (reason: DisconnectReason) => void;

/** The app's handlers on one session: one per client event name, and the `disconnect` listeners. */
export class SessionHandlers {
  private readonly handlers = new Map<string, EventHandler>();
  private readonly disconnectListeners = new Set<DisconnectListener>();

  /** Registers a handler (replacing the previous one of `event`); returns an unsubscribe function. */
  on(event: string, handler: EventHandler): () => void {
    this.handlers.set(event, handler);
    return () => {
      if (this.handlers.get(event) === handler) this.handlers.delete(event);
    };
  }

  onDisconnect(listener: DisconnectListener): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  handler(event: string): EventHandler | undefined {
    return this.handlers.get(event);
  }

  /** Tells every `disconnect` listener, once: one that throws is logged and the others still run. */
  disconnected(reason: DisconnectReason, logger: Logger, sid: string): void {
    for (const l of [...this.disconnectListeners]) {
      try {
        l(reason);
      } catch (err) {
        logger.error('disconnect listener threw', { sid, err });
      }
    }
    this.handlers.clear();
    this.disconnectListeners.clear();
  }

  /** The session was let go: no `disconnect` will fire here (handlers stay, for frames recorded before). */
  dropListeners(): void {
    this.disconnectListeners.clear();
  }
}
