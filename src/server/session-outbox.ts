import type { MessageFrame, SequencedFrame } from '../protocol/frames';
import { encodeFrame } from '../protocol/codec';
import { encodeMessage } from './message-text';
import type { PreparedMessage } from './prepared-message';
import { ReplayBuffer } from './replay-buffer';
import type { FrameTemplate, SessionSnapshot } from './session-journal';
import type { SessionPartHost } from './session-hooks';
import { parseInboxEntry } from './session-frames';
import { encoded } from './errors';
import { warnPayloadChanges } from './payload-warnings';
import { encodeWithin } from './message-size';

/** What SessionOutbox needs of its session. */
export interface OutboxHost extends SessionPartHost {
  /** A frame was just numbered and held: send it to the client (once durable, with a journal). */
  deliver(frame: SequencedFrame, text: string): void;
  /** The client acknowledged frames, or had every frame until one more was just added (SessionHooks.caughtUp). */
  caughtUp(): void;
}

/**
 * A session's outbound `msg`/`reply` frames: numbered 1, 2, 3…, held until the client acknowledges them (bounded,
 * ReplayBuffer), and written to the journal as they are numbered and acknowledged.
 */
export class SessionOutbox {
  private nextId = 1;
  private readonly buffer: ReplayBuffer;
  /** Highest acknowledgement already written to the journal. */
  private journaledAck = 0;

  constructor(
    private readonly host: OutboxHost,
    limits: { maxMessages: number; maxBytes: number },
    snapshot?: SessionSnapshot,
  ) {
    this.buffer = new ReplayBuffer(limits.maxMessages, limits.maxBytes);
    if (!snapshot) return;
    this.nextId = snapshot.lastId + 1;
    for (const { frame, text } of snapshot.frames) this.buffer.push(frame, text);
    this.buffer.ack(snapshot.floor);
    this.journaledAck = snapshot.floor;
  }

  /** The id the next frame gets. */
  get next(): number {
    return this.nextId;
  }

  /** Held frames the client has not acknowledged. */
  get size(): number {
    return this.buffer.size;
  }

  /** Memory the held frames take. */
  get retained(): number {
    return this.buffer.retained;
  }

  set onRetainedChange(listener: ((delta: number) => void) | undefined) {
    this.buffer.onRetainedChange = listener;
  }

  /**
   * An app event for the client. Throws `RealtimeServerError` `unencodable` for data JSON cannot carry,
   * `payload_too_large` over `maxMessageBytes`; nothing is sent then and no id is used.
   */
  emit(event: string, data?: unknown): void {
    const frame: MessageFrame = data === undefined ? { t: 'msg', id: 0, e: event } : { t: 'msg', id: 0, e: event, d: data };
    const { text, bytes } = encodeWithin(frame, this.nextId, this.host.maxMessageBytes, `the event "${event}"`, (f) => encodeMessage(f as MessageFrame));
    // Ended or let go: `send` drops or hands it over, unnumbered.
    if (this.host.state() !== 'live') return this.send(frame);
    warnPayloadChanges('emit', event, data);
    this.send(frame, text, bytes);
  }

  /** A fanned-out event, encoded once for every session it reaches. */
  emitPrepared(message: PreparedMessage): void {
    // A copy let go hands nothing over from the bus: whoever carries the session next reads the bus itself.
    if (this.host.state() !== 'live') return;
    const id = this.nextId;
    this.send(message.frame(id), message.text(id), message.bytes(id), message.template);
  }

  /**
   * Numbers and sends events other processes queued for this session (JSON of unnumbered `msg`/`reply` frames), and
   * tells the journal they came from the inbox, so they leave it exactly when they are durable here.
   */
  fromInbox(texts: readonly string[]): void {
    if (this.host.state() !== 'live') return;
    for (const text of texts) {
      const frame = parseInboxEntry(text);
      if (frame) this.send(frame);
      else {
        this.host.logger.error('unreadable inbox entry skipped', { sid: this.host.sid });
        this.send({ t: 'msg', id: 0, e: 'error', d: 'unreadable inbox entry' });
      }
    }
    this.host.journal?.drained(this.host.sid, texts.length);
  }

  /**
   * Numbers, holds and delivers `frame`; `text` and `bytes` when already encoded (then `frame.id` must be the next
   * id). Encodes before numbering: a frame JSON cannot carry throws `unencodable` and uses no id (a used id with
   * nothing sent would be a hole for the client).
   */
  send(frame: SequencedFrame, text?: string, bytes?: number, template?: FrameTemplate): void {
    const state = this.host.state();
    if (state === 'ended') return;
    frame.id = this.nextId;
    text ??= encoded(frame.t === 'reply' ? 'the reply' : 'the event data', () => encodeFrame(frame), frame.d);
    if (state === 'letGo') {
      frame.id = 0;
      this.host.journal?.handOver(this.host.sid, frame);
      return;
    }
    this.nextId++;
    this.buffer.push(frame, text, bytes);
    if (this.buffer.size === 1) this.host.caughtUp(); // up to date until now: its wait starts here
    this.host.journal?.appended(this.host.sid, frame, text, template);
    this.host.deliver(frame, text);
  }

  /** A client acknowledged every frame with `id <= id`. */
  ack(id: number): void {
    const upTo = Math.min(id, this.nextId - 1);
    const held = this.buffer.size;
    this.buffer.ack(upTo);
    if (this.buffer.size < held) this.host.caughtUp();
    if (upTo > this.journaledAck) {
      this.journaledAck = upTo;
      this.host.journal?.acked(this.host.sid, upTo);
    }
  }

  /** Frames held with `id > last`, or null when some were dropped. Also acknowledges up to `last`. */
  after(last: number): { frame: SequencedFrame; text: string }[] | null {
    const frames = this.buffer.after(last);
    if (frames) this.ack(last);
    return frames;
  }

  canReplay(last: number): boolean {
    return this.buffer.canReplay(last);
  }

  /** Drops every held frame (the session ended, or another process replays from the journal). */
  clear(): void {
    this.buffer.clear();
  }
}
