import type { MessageFrame, ReplyFrame } from '../../protocol/frames';
import type { FrameTemplate } from '../session-journal';

export type { FrameTemplate };

/** A sequenced frame before Redis numbers it. */
export type UnnumberedFrame = Omit<MessageFrame, 'id'> | Omit<ReplyFrame, 'id'>;

/**
 * The text is what `encodeFrame` gives for the numbered frame: `t` first, then `id`, then the other fields in the
 * caller's order, the same shape Session builds in memory.
 */
export function frameTemplate(frame: UnnumberedFrame): FrameTemplate {
  const { t, id: _stray, ...rest } = frame as UnnumberedFrame & { id?: unknown };
  const text = JSON.stringify({ t, id: 0, ...rest });
  const prefix = `{"t":${JSON.stringify(t)},"id":`;
  if (!text.startsWith(`${prefix}0`)) throw new Error(`unexpected frame encoding: ${text.slice(0, 40)}`);
  return { prefix, suffix: text.slice(prefix.length + 1) };
}

export function fillTemplate(template: FrameTemplate, id: number): string {
  return `${template.prefix}${id}${template.suffix}`;
}
