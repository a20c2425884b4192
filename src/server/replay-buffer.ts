import type { SequencedFrame } from '../protocol/frames';

interface Entry {
  /** The frame without its payload: the text is the frame; SSE's `id:` line reads the type and id. */
  head: SequencedFrame;
  text: string;
  bytes: number;
}

/**
 * What an entry costs besides its text (the entry, its head, the string's own header), counted in `retained`:
 * measured about 125 bytes with a small message (1,000 sessions, 500 broadcasts, heap after GC), rounded up.
 */
const ENTRY_OVERHEAD = 144;

/**
 * Sequenced frames of one session kept until the client acknowledges them, bounded by count and bytes.
 * When over a bound the oldest frame is dropped; `floor` remembers the highest id no longer held, so a resume that
 * needs it can be refused as `overrun`. Only the text of a frame is kept, not its payload object: what a frame
 * retains is what it counts.
 */
export class ReplayBuffer {
  private entries: Entry[] = [];
  private head = 0; // index of the oldest live entry (amortised shift)
  private bytes = 0;
  /** Highest id that is no longer held (acknowledged or dropped). */
  private floor = 0;
  /** Told how `retained` changed (the server's budget for sessions waiting for a resume). */
  onRetainedChange: ((delta: number) => void) | undefined;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Memory the held frames cost: their UTF-8 bytes and a fixed cost each. */
  get retained(): number {
    return this.bytes + this.size * ENTRY_OVERHEAD;
  }

  /** `bytes`: the text's UTF-8 length when the caller knows it already (Node's native count: a JS loop cost 3x). */
  push(frame: SequencedFrame, text: string, bytes = Buffer.byteLength(text)): void {
    const before = this.retained;
    const head: SequencedFrame = frame.t === 'msg' ? { t: 'msg', id: frame.id, e: frame.e } : { t: 'reply', id: frame.id, re: frame.re };
    this.entries.push({ head, text, bytes });
    this.bytes += bytes;
    while (this.size > 0 && (this.size > this.maxMessages || this.bytes > this.maxBytes)) this.dropOldest();
    this.compact();
    this.onRetainedChange?.(this.retained - before);
  }

  /** The client has every frame with `id <= id`. */
  ack(id: number): void {
    const before = this.retained;
    while (this.size > 0 && this.entries[this.head]!.head.id <= id) this.dropOldest();
    if (id > this.floor) this.floor = id;
    this.compact();
    if (this.retained !== before) this.onRetainedChange?.(this.retained - before);
  }

  /** Can a resume with `last` be honoured (nothing after it was dropped)? */
  canReplay(last: number): boolean {
    return last >= this.floor;
  }

  /**
   * Every held frame with `id > last` (heads without payload, and their text), or `null` when some of them were
   * dropped (overrun).
   */
  after(last: number): { frame: SequencedFrame; text: string }[] | null {
    if (last < this.floor) return null;
    const out: { frame: SequencedFrame; text: string }[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.head.id > last) out.push({ frame: e.head, text: e.text });
    }
    return out;
  }

  /** Drops every held frame (the session ended, or another process carries it now): nothing will be replayed. */
  clear(): void {
    const before = this.retained;
    while (this.size > 0) this.dropOldest();
    this.entries = [];
    this.head = 0;
    if (before !== 0) this.onRetainedChange?.(-before);
  }

  private dropOldest(): void {
    const e = this.entries[this.head]!;
    this.entries[this.head] = undefined as unknown as Entry;
    this.head++;
    this.bytes -= e.bytes;
    if (e.head.id > this.floor) this.floor = e.head.id;
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
