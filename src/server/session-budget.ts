import type { Logger } from './types';

/** What the budget needs of a session. */
export interface Budgeted {
  readonly id: string;
  readonly retainedBytes: number;
  /** Held frames the client has not acknowledged. */
  readonly unacknowledged: number;
  /** Whether a connection carries the session now. */
  readonly connected: boolean;
  onRetainedChange: ((delta: number) => void) | undefined;
}

/**
 * The memory all sessions hold together (their replay buffers, what is queued for a polling connection that holds no
 * poll, a fixed cost each), kept up to date as frames come and go, and the order their clients last made progress (a
 * handshake, a poll, an acknowledgement, or being up to date when a frame was sent). Over `maxBytes`, `letGo` takes
 * sessions once the current turn is over (not in the middle of the delivery that grew them), the one without
 * progress longest first: first those that wait for a resume or owe acknowledgements (an abandoned session, an
 * attacker that does not read), then, if that is not enough, any.
 */
export class SessionBudget<S extends Budgeted> {
  /** Sessions in the order their clients last made progress, longest ago first. */
  private readonly sessions = new Map<string, S>();
  /** Bytes held for a session beyond its own (a polling connection's queue while no poll is held). */
  private readonly extra = new Map<string, number>();
  private bytes = 0;
  private checkQueued = false;

  constructor(
    private readonly maxBytes: number,
    private readonly logger: Logger,
    private readonly letGo: (session: S) => void,
  ) {}

  add(session: S): void {
    if (this.sessions.has(session.id)) return;
    this.sessions.set(session.id, session);
    this.extra.set(session.id, 0);
    this.bytes += session.retainedBytes;
    session.onRetainedChange = (delta) => {
      this.bytes += delta;
      this.check();
    };
    this.check();
  }

  /** The client made progress (a handshake, a poll, an acknowledgement): its session goes to the back of the line. */
  heard(session: S): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
  }

  /** Sets the bytes held for `session` elsewhere. */
  setExtra(session: S, bytes: number): void {
    this.charge(session, bytes - (this.extra.get(session.id) ?? bytes));
  }

  /** More (or fewer) bytes held for `session` elsewhere. */
  charge(session: S, delta: number): void {
    if (this.sessions.get(session.id) !== session || delta === 0) return;
    this.extra.set(session.id, this.extra.get(session.id)! + delta);
    this.bytes += delta;
    this.check();
  }

  delete(session: S): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.bytes -= session.retainedBytes + this.extra.get(session.id)!;
    this.extra.delete(session.id);
    session.onRetainedChange = undefined;
  }

  clear(): void {
    for (const s of this.sessions.values()) s.onRetainedChange = undefined;
    this.sessions.clear();
    this.extra.clear();
    this.bytes = 0;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  private check(): void {
    if (this.checkQueued || this.bytes <= this.maxBytes) return;
    this.checkQueued = true;
    queueMicrotask(() => {
      this.checkQueued = false;
      const quiet = (s: S): boolean => !s.connected || s.unacknowledged > 0 || this.extra.get(s.id)! > 0;
      const evicted = this.evict(quiet) + this.evict(() => true);
      if (evicted > 0) {
        this.logger.warn('sessions over sessionsMaxBytes; those whose clients made no progress longest let go', {
          evicted,
          sessions: this.sessions.size,
          bytes: this.bytes,
          limit: this.maxBytes,
        });
      }
    });
  }

  /** Lets sessions `which` accepts go, longest quiet first, until under the budget; returns how many. */
  private evict(which: (s: S) => boolean): number {
    let evicted = 0;
    for (const session of this.sessions.values()) {
      if (this.bytes <= this.maxBytes) break;
      if (!which(session)) continue;
      this.delete(session);
      evicted++;
      this.letGo(session);
    }
    return evicted;
  }
}
