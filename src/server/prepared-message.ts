import { encodeFrame, utf8Length } from '../protocol/codec';
import type { MessageFrame } from '../protocol/frames';
import type { FrameTemplate } from './session-journal';
import { encoded } from './errors';

const PREFIX = '{"t":"msg","id":';

/**
 * An event fanned out to many sessions, encoded once: each session only writes its own frame id into the text,
 * which comes out exactly as `encodeFrame` would give it.
 */
export class PreparedMessage {
  /** The text around the id; one object for every session, so a journal can write it once. */
  readonly template: FrameTemplate;
  /** UTF-8 bytes of the text without the id's digits. */
  private readonly baseBytes: number;

  constructor(
    readonly event: string,
    readonly data: unknown,
  ) {
    const text = encoded('the event data', () => encodeFrame(this.frame(0)), data);
    this.template = { prefix: PREFIX, suffix: text.slice(PREFIX.length + 1) };
    this.baseBytes = utf8Length(text) - 1;
  }

  frame(id: number): MessageFrame {
    return this.data === undefined ? { t: 'msg', id, e: this.event } : { t: 'msg', id, e: this.event, d: this.data };
  }

  text(id: number): string {
    return `${PREFIX}${id}${this.template.suffix}`;
  }

  /** UTF-8 bytes of `text(id)` (the id's digits are ASCII). */
  bytes(id: number): number {
    return this.baseBytes + String(id).length;
  }
}
