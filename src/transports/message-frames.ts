import { decodeServerBatch, decodeServerFrame } from '../protocol/codec';
import type { ServerFrame } from '../protocol/frames';
import type { TransportFailure } from './transport';

/**
 * The frames of one WebSocket message or SSE event: one frame, or a JSON array of frames the server coalesced
 * (protocol §4). Anything else is a `protocol` failure; `nonText` is its message for data that is not text.
 */
export function messageFrames(data: unknown, nonText: string): readonly ServerFrame[] | TransportFailure {
  if (typeof data !== 'string') return { kind: 'protocol', message: nonText };
  const decoded = data.startsWith('[') ? decodeServerBatch(data) : decodeServerFrame(data);
  if (!decoded.ok) return { kind: 'protocol', message: decoded.reason };
  return Array.isArray(decoded.frame) ? decoded.frame : [decoded.frame];
}
