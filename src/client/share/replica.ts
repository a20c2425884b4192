import type { ReplicaSnapshot, SentItem, SharedFrame, TabMessage } from './messages';

/** Frames kept for a tab that fell behind (a tab further back than this is told its session is gone). */
export const REPLAY_FRAMES = 4096;

/** Where a new leader picks the session up. */
export interface LeaderSeed {
  /** null: no session yet, the leader starts one. */
  session: { sid: string; secret: string; last: number } | null;
  /** The session's client frame numbering before `resend[0]` (or the last number used, when nothing waits). */
  seqBase: number;
  /** Frames sent and not acknowledged, in number order, to be sent again with the same numbers. */
  resend: SentItem[];
}

/**
 * What every tab knows of the shared session, so that any of them can lead next: the session and its secret, the
 * frames passed on (the last id, and recent ones for replay), the frames sent and not yet acknowledged, each tab's
 * highest number the leader took and the server accepted, and which tabs are visible. Every tab applies what the
 * leader says; `apply` is idempotent, so the leader applies its own messages at once and again when they echo back.
 */
export class SessionReplica {
  sid: string | null = null;
  secret = '';
  /** Id of the last frame passed on, without a gap. */
  last = 0;
  readonly recent: SharedFrame[] = [];
  /** Sent and not acknowledged, by their number in the session. */
  readonly inflight = new Map<number, SentItem>();
  /** Highest session number used so far. */
  lastSeq = 0;
  /** Per tab: the highest of its own numbers the leader sent on. */
  readonly accepted = new Map<string, number>();
  /** Per tab: the highest of its own numbers the server accepted. */
  readonly acked = new Map<string, number>();
  readonly visible = new Map<string, boolean>();

  apply(m: TabMessage): void {
    switch (m.k) {
      case 'session':
        if (m.sid !== this.sid) this.reset();
        this.sid = m.sid;
        this.secret = m.secret;
        return;
      case 'frames':
        for (const f of m.frames) this.passed(f);
        return;
      case 'sent':
        for (const item of m.items) {
          this.inflight.set(item.s, item);
          this.lastSeq = Math.max(this.lastSeq, item.s);
          this.accepted.set(item.tab, Math.max(this.accepted.get(item.tab) ?? 0, item.n));
        }
        return;
      case 'acked':
        for (const s of this.inflight.keys()) if (s <= m.n) this.inflight.delete(s);
        for (const [tab, n] of Object.entries(m.tabs)) this.acked.set(tab, Math.max(this.acked.get(tab) ?? 0, n));
        return;
      case 'hello':
      case 'seen':
        this.visible.set(m.tab, m.visible);
        return;
      case 'bye':
        this.visible.delete(m.tab);
        return;
    }
  }

  snapshot(): ReplicaSnapshot {
    return {
      sid: this.sid ?? '',
      secret: this.secret,
      lastSeq: this.lastSeq,
      inflight: [...this.inflight.values()],
      accepted: [...this.accepted],
      acked: [...this.acked],
      visible: [...this.visible],
    };
  }

  /**
   * The server accepted every number up to `n`, some of them on frames this tab never heard of (their leader died
   * before its word arrived): none is sent again, and numbering goes on after `n`.
   */
  usedUpTo(n: number): void {
    for (const s of this.inflight.keys()) if (s <= n) this.inflight.delete(s);
    this.lastSeq = Math.max(this.lastSeq, n);
  }

  /** What the leader knew when this tab joined (or rejoined): merged, so nothing heard since is undone. */
  adopt(s: ReplicaSnapshot, last: number): void {
    this.apply({ k: 'session', sid: s.sid, secret: s.secret });
    this.apply({ k: 'sent', items: s.inflight });
    this.lastSeq = Math.max(this.lastSeq, s.lastSeq);
    for (const [tab, n] of s.accepted) this.accepted.set(tab, Math.max(this.accepted.get(tab) ?? 0, n));
    for (const [tab, n] of s.acked) this.acked.set(tab, Math.max(this.acked.get(tab) ?? 0, n));
    for (const [tab, visible] of s.visible) if (!this.visible.has(tab)) this.visible.set(tab, visible);
    if (last > this.last) {
      // Frames before `last` are not kept here: a tab behind this point is replayed by the server, not by this tab.
      this.last = last;
      this.recent.length = 0;
    }
  }

  /** A frame passed on: kept when it is the next one (a repeat or one after a gap changes nothing). */
  passed(f: SharedFrame): boolean {
    if (f.id !== this.last + 1) return false;
    this.last = f.id;
    this.recent.push(f);
    if (this.recent.length > REPLAY_FRAMES) this.recent.splice(0, this.recent.length - REPLAY_FRAMES);
    return true;
  }

  /** Frames after `last`, or null when some of them are no longer kept. */
  after(last: number): SharedFrame[] | null {
    if (last >= this.last) return [];
    const first = this.recent[0];
    if (!first || first.id > last + 1) return null;
    return this.recent.slice(last + 1 - first.id);
  }

  /** A tab other than `self` that is visible, if any (the one that said so last). */
  visibleTab(self: string): string | null {
    let found: string | null = null;
    for (const [tab, visible] of this.visible) if (visible && tab !== self) found = tab;
    return found;
  }

  /**
   * What a new leader resumes from. The frames to send again must carry the numbers they went out with (the server
   * drops a number it has seen, so a repeat is harmless and a renumbered repeat would run twice): they are the
   * unacknowledged ones, which are contiguous; should a number be missing, only those before it are kept and the
   * tabs' own resends bring the rest.
   */
  seed(): LeaderSeed {
    const session = this.sid ? { sid: this.sid, secret: this.secret, last: this.last } : null;
    const seqs = [...this.inflight.keys()].sort((a, b) => a - b);
    const resend: SentItem[] = [];
    for (const s of seqs) {
      if (resend.length > 0 && s !== resend[resend.length - 1]!.s + 1) break;
      resend.push(this.inflight.get(s)!);
    }
    const seqBase = resend.length > 0 ? resend[0]!.s - 1 : this.lastSeq;
    // Tabs whose frames were dropped past a missing number must be able to send them again.
    for (const s of seqs.slice(resend.length)) {
      const item = this.inflight.get(s)!;
      this.accepted.set(item.tab, Math.min(this.accepted.get(item.tab) ?? 0, item.n - 1));
    }
    return { session, seqBase, resend };
  }

  /** A different session: nothing of the old one carries over. */
  private reset(): void {
    this.last = 0;
    this.recent.length = 0;
    this.inflight.clear();
    this.lastSeq = 0;
    this.accepted.clear();
    this.acked.clear();
  }
}
