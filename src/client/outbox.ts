import type { OutboundFrame } from '../protocol/frames';
import { utf8Length } from '../protocol/codec';
import { RealtimeError } from './errors';

/** One emit or request the client has accepted and the server has not yet acknowledged. */
export interface OutboxEntry {
  frame: OutboundFrame;
  /** UTF-8 size of the encoded frame, counted against `maxBytes`. */
  bytes: number;
  /** Wall-clock deadline for the first transmission (emit time-to-live); never applied once sent. */
  expiresAt?: number;
}

/**
 * Frames wait here until the server acknowledges them. A sequence number is assigned when a frame is first
 * transmitted, so a frame that expires unsent leaves no gap in the numbering the server sees.
 */
export class Outbox {
  private entries: OutboxEntry[] = [];
  private byteTotal = 0;
  private lastSeq = 0;

  constructor(
    private readonly limits: { maxCount: number; maxBytes: number },
    /** Called after every change (to persist it). */
    private readonly changed: () => void = () => {},
  ) {}

  /**
   * Accepts a frame or throws `outbox_full`; nothing already accepted is ever pushed out. `bytes`: the message's size
   * when the caller measured it (`{e, d}` JSON, as the server's limit counts it), so one of the limit fits the default.
   */
  add(kind: OutboundFrame['t'], event: string, data: unknown, expiresAt?: number, bytes?: number): OutboxEntry {
    const frame: OutboundFrame = data === undefined ? { t: kind, seq: 0, e: event } : { t: kind, seq: 0, e: event, d: data };
    bytes ??= utf8Length(JSON.stringify(frame));
    if (this.entries.length + 1 > this.limits.maxCount || this.byteTotal + bytes > this.limits.maxBytes) {
      throw new RealtimeError(
        'outbox_full',
        `outbox full (${this.entries.length} frames, ${this.byteTotal} bytes; limits ${this.limits.maxCount} frames, ${this.limits.maxBytes} bytes)`,
      );
    }
    const entry: OutboxEntry = expiresAt === undefined ? { frame, bytes } : { frame, bytes, expiresAt };
    this.entries.push(entry);
    this.byteTotal += bytes;
    this.changed();
    return entry;
  }

  /** Every entry, oldest first, and the last number given out (what `persist` writes). */
  kept(): [readonly OutboxEntry[], number] {
    return [this.entries, this.lastSeq];
  }

  /** Puts back what an earlier page kept, ahead of this page's (none sent yet), numbering on from `lastSeq`. */
  putBack(entries: OutboxEntry[], lastSeq: number): void {
    this.entries = entries.concat(this.entries);
    for (const e of entries) this.byteTotal += e.bytes;
    this.lastSeq = Math.max(this.lastSeq, lastSeq);
    this.changed();
  }

  /** Drops everything (`forget()`, a logout): nothing of it is sent any more. */
  clear(): void {
    this.entries = [];
    this.byteTotal = 0;
    this.lastSeq = 0;
    this.changed();
  }

  /**
   * Entries to transmit now: with `all`, every unacknowledged frame (after a reconnect); otherwise only those
   * never sent. Unsent frames get their sequence numbers here; unsent frames past their deadline are removed
   * and returned in `expired`.
   */
  take(now: number, all: boolean): { frames: OutboxEntry[]; expired: OutboxEntry[] } {
    const frames: OutboxEntry[] = [];
    const expired: OutboxEntry[] = [];
    for (const entry of [...this.entries]) {
      if (entry.frame.seq === 0) {
        if (entry.expiresAt !== undefined && now > entry.expiresAt) {
          this.remove(entry);
          expired.push(entry);
          continue;
        }
        entry.frame.seq = ++this.lastSeq;
        frames.push(entry);
      } else if (all) {
        frames.push(entry);
      }
    }
    if (frames.length > 0 || expired.length > 0) this.changed();
    return { frames, expired };
  }

  /** The server accepted every frame with `seq <= n`. */
  ack(n: number): void {
    let removed = false;
    while (this.entries.length > 0) {
      const head = this.entries[0]!;
      if (head.frame.seq === 0 || head.frame.seq > n) break;
      this.entries.shift();
      this.byteTotal -= head.bytes;
      removed = true;
    }
    if (removed) this.changed();
  }

  /** Removes an entry that was never sent (a request that timed out before it could go). */
  remove(entry: OutboxEntry): boolean {
    if (entry.frame.seq !== 0) return false;
    const i = this.entries.indexOf(entry);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    this.byteTotal -= entry.bytes;
    this.changed();
    return true;
  }

  /**
   * A new session numbers from 1 again: every waiting frame is unsent once more, except those the old session accepted
   * (`accepted`, when the server knew: they ran, so they leave). Returns how many of those left were sent before.
   */
  renumber(accepted = 0): number {
    this.ack(accepted);
    let wasSent = 0;
    for (const entry of this.entries) {
      if (entry.frame.seq !== 0) wasSent++;
      entry.frame.seq = 0;
    }
    this.lastSeq = 0;
    this.changed();
    return wasSent;
  }

  has(entry: OutboxEntry): boolean {
    return this.entries.includes(entry);
  }

  get size(): number {
    return this.entries.length;
  }

  get bytes(): number {
    return this.byteTotal;
  }
}
