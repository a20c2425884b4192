import type { Session } from './session';

/** Where sessions live. The in-memory default is enough for one process; a shared store could replace it. */
export interface SessionStore {
  get(id: string): Session | undefined;
  set(session: Session): void;
  delete(id: string): void;
  values(): IterableIterator<Session>;
  readonly size: number;
}

export class MemorySessionStore implements SessionStore {
  private readonly map = new Map<string, Session>();
  get(id: string): Session | undefined {
    return this.map.get(id);
  }
  set(session: Session): void {
    this.map.set(session.id, session);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  values(): IterableIterator<Session> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }
}
