import type { SequencedFrame } from '../protocol/frames';

interface Entry {
  frame: SequencedFrame;
  text: string;
  bytes: number;
}

/**
 * Sequenced frames of one session kept until the client acknowledges them, bounded by count and bytes.
 * When over a bound the oldest frame is dropped; `floor` remembers the highest id no longer held, so a resume that
 * needs it can be refused as `overrun`.
 */
export class ReplayBuffer {
  private entries: Entry[] = [];
  private head = 0; // index of the oldest live entry (amortised shift)
  private bytes = 0;
  /** Highest id that is no longer held (acknowledged or dropped). */
  private floor = 0;

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

  /** `bytes`: the text's UTF-8 length when the caller knows it already (Node's native count: a JS loop cost 3x). */
  push(frame: SequencedFrame, text: string, bytes = Buffer.byteLength(text)): void {
    this.entries.push({ frame, text, bytes });
    this.bytes += bytes;
    while (this.size > 0 && (this.size > this.maxMessages || this.bytes > this.maxBytes)) this.dropOldest();
    this.compact();
  }

  /** The client has every frame with `id <= id`. */
  ack(id: number): void {
    while (this.size > 0 && this.entries[this.head]!.frame.id <= id) this.dropOldest();
    if (id > this.floor) this.floor = id;
    this.compact();
  }

  /** Every held frame with `id > last`, or `null` when some of them were dropped (overrun). */
  after(last: number): { frame: SequencedFrame; text: string }[] | null {
    if (last < this.floor) return null;
    const out: { frame: SequencedFrame; text: string }[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.frame.id > last) out.push({ frame: e.frame, text: e.text });
    }
    return out;
  }

  private dropOldest(): void {
    const e = this.entries[this.head]!;
    this.entries[this.head] = undefined as unknown as Entry;
    this.head++;
    this.bytes -= e.bytes;
    if (e.frame.id > this.floor) this.floor = e.frame.id;
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
