import { encodeFrame } from '../protocol/codec';
import type { MessageFrame } from '../protocol/frames';

// The last event name's encoded keys: a burst of one event encodes them once (one entry, so nothing grows).
let lastEvent: string | undefined;
let lastHead = '';

/**
 * A `msg` frame's text, the same as `encodeFrame` gives, with only the data run through JSON.stringify: the fixed
 * keys cost about a third of a small frame's encode (bench/RESULTS.md, issue 15). One difference: a `toJSON` of the
 * data is called with the key `''` rather than `'d'`.
 */
export function encodeMessage(frame: MessageFrame): string {
  if (frame.d === undefined) return encodeFrame(frame);
  const data = JSON.stringify(frame.d) as string | undefined;
  // A function or a symbol: encodeFrame leaves the key out, as JSON.stringify does.
  if (data === undefined) return encodeFrame(frame);
  if (frame.e !== lastEvent) {
    // A name that is not a string (from plain JS) would not stringify into a key: encodeFrame decides.
    if (typeof frame.e !== 'string') return encodeFrame(frame);
    lastEvent = frame.e;
    lastHead = `,"e":${JSON.stringify(frame.e)},"d":`;
  }
  return '{"t":"msg","id":' + frame.id + lastHead + data + '}';
}
