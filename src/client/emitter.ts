/** A map from event name to payload type. */
export type EventMap = Record<string, unknown>;

// Constrained to `object` (not EventMap) so interfaces work as event maps too; they lack an index signature.

export type Listener<T> = (payload: T) => void;

/**
 * A small typed emitter. `on()` returns its own unsubscribe function. A listener that throws does not stop the
 * others: its error goes to `onListenerError`.
 */
export class TypedEmitter<Events extends object> {
  /** Copied on every change, never changed in place: emit() walks the array it found, with no copy per event. */
  private readonly listeners = new Map<keyof Events, Listener<never>[]>();

  constructor(private readonly onListenerError: (error: unknown, event: string) => void = () => {}) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const list = this.listeners.get(event) ?? [];
    if (!list.includes(listener as Listener<never>)) this.listeners.set(event, [...list, listener as Listener<never>]);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    // A once() wrapper is removed through the function on() returned; a plain listener by identity.
    const rest = list.filter((l) => l !== listener);
    if (rest.length === 0) this.listeners.delete(event);
    else this.listeners.set(event, rest);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const listener of list) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        this.onListenerError(error, String(event));
      }
    }
  }

  listenerCount(event?: keyof Events): number {
    if (event !== undefined) return this.listeners.get(event)?.length ?? 0;
    let n = 0;
    for (const list of this.listeners.values()) n += list.length;
    return n;
  }

  clear(): void {
    this.listeners.clear();
  }
}
