import type { OutboundFrame } from '../protocol/frames';

/** What `persist` keeps for one tab, so that a reload, a crash of the tab or a way back resumes its session. */
export interface PersistedState {
  /** The credential's user it belongs to (`auth` returned it; `''` without one): nobody else resumes it. */
  user: string;
  /** The session to resume (absent before the first welcome). */
  session?: { sid: string; secret: string; last: number };
  /** The outbox: emits and requests not yet acknowledged, with the sequence numbers those sent already carry. */
  entries: { frame: OutboundFrame; expiresAt?: number }[];
  /** Last sequence number given out: the next page goes on from there. */
  lastSeq: number;
  /** `Date.now()` of the write; state older than a day is dropped unread. */
  savedAt: number;
}

/** Where persisted state lives: IndexedDB with `persist: true` (loaded only then), or an app's own store. */
export interface PersistStore {
  load(key: string): Promise<PersistedState | undefined>;
  save(key: string, state: PersistedState): Promise<void>;
  remove(key: string): Promise<void>;
}
