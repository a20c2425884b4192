import type { ClientFrame, EmitFrame, WelcomeFrame } from '../protocol/frames';
import type { TransportHandlers } from '../transports/transport';
import type { PlainState } from './plain';

/**
 * The welcome a plain transport synthesizes once its connection is usable. Plain servers keep no session, so it
 * always "resumes" the one fixed session (no `resync` event) and acknowledges what was already handed to the network.
 */
export function plainWelcome(state: PlainState): WelcomeFrame {
  return { t: 'welcome', sid: 'plain', secret: '', cid: 'plain', hb: 0, resumed: true, ack: state.sentSeq, maxFrame: 2 ** 31 - 1 };
}

/** Hands one inbound message to the owner, numbered from the shared counter. */
export function deliverMessage(handlers: TransportHandlers, state: PlainState, event: string, data: unknown): void {
  handlers.onFrame({ t: 'msg', id: ++state.lastId, e: event, d: data });
}

/** An emit was handed to the network (WebSocket) or accepted by the server (POST): the owner may drop it. */
export function markSent(handlers: TransportHandlers, state: PlainState, seq: number): void {
  state.sentSeq = Math.max(state.sentSeq, seq);
  handlers.onFrame({ t: 'ack', n: seq });
}

/** The frames a plain server can take: emits only (plain acks are meaningless; the client never sends `req` here). */
export function emitsOf(frames: readonly ClientFrame[]): EmitFrame[] {
  return frames.filter((f): f is EmitFrame => f.t === 'emit');
}

/** What a plain server receives for one emit. */
export function encodeEmit(frame: EmitFrame): string {
  return JSON.stringify({ event: frame.e, data: frame.d });
}

/** The text JSON-parsed when it parses, else the text itself. */
export function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `{ event: string, data }` names its event; any other value is the data of a `message`. */
export function toMessage(value: unknown): { event: string; data: unknown } {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { event, data } = value as { event?: unknown; data?: unknown };
    if (typeof event === 'string') return { event, data };
  }
  return { event: 'message', data: value };
}
