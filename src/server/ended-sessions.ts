import { SessionSecret, type SessionSecrets } from './session-secret';

/** What is kept of one ended session: when it ended, what it accepted, and who may learn that. */
interface EndedSession {
  at: number;
  /** Highest client `seq` the session accepted. */
  accepted: number;
  secrets: SessionSecret;
}

/** What a handshake naming an ended session may learn: that it ended, and with the secret what it accepted. */
export interface EndedLookup {
  /** Highest client `seq` the ended session accepted; absent when the handshake did not present its secret. */
  accepted?: number;
}

/**
 * A bounded memory of sessions that ended (here: expired, ended by the app or over the memory budget; or elsewhere,
 * read from a journal): a client coming back names its old session, and is told which of its emits the old session
 * ran (`welcome.prevAck`), so it re-sends only the others. Entries go after `windowMs`, and the oldest first once
 * `maxCount` are held (a Map iterates in insertion order, and an entry remembered again moves to the end).
 */
export class EndedSessions {
  private readonly entries = new Map<string, EndedSession>();

  constructor(
    private readonly limits: { windowMs: number; maxCount: number },
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  remember(id: string, accepted: number, secrets: SessionSecrets): void {
    const now = this.now();
    this.entries.delete(id); // re-inserted at the end: the order stays oldest first
    this.prune(now, 1);
    this.entries.set(id, { at: now, accepted, secrets: new SessionSecret(secrets) });
  }

  /** Null: not remembered (never ended here, or forgotten). A presented secret that is wrong learns nothing more. */
  lookup(id: string, presented: string): EndedLookup | null {
    const now = this.now();
    this.prune(now, 0);
    const entry = this.entries.get(id);
    if (!entry) return null;
    return entry.secrets.match(presented) === null ? {} : { accepted: entry.accepted };
  }

  clear(): void {
    this.entries.clear();
  }

  /** Drops what is past the window, and the oldest while `room` more would not fit. */
  private prune(now: number, room: number): void {
    for (const [id, entry] of this.entries) {
      if (this.entries.size + room <= this.limits.maxCount && now - entry.at < this.limits.windowMs) break;
      this.entries.delete(id);
    }
  }
}
