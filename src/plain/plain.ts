import type { TransportName } from '../protocol/frames';

/**
 * Plain mode: one URL per transport, for servers that do not speak the realtime-fallback protocol (a bare `ws`
 * server, a hand-written SSE route, a JSON polling endpoint). Relative URLs resolve against the client's URL.
 */
export interface PlainEndpoints {
  /** A WebSocket URL (ws:, wss:, or http(s): which is converted). */
  websocket?: string;
  /** An endpoint answering `text/event-stream`. */
  sse?: string;
  /** A GET endpoint answering a JSON array of messages, one message, or `{ messages, cursor }`. */
  polling?: string;
  /** Where `emit()` POSTs `{ "event", "data" }` while on SSE or polling. Without it, emits wait for a WebSocket. */
  send?: string;
  /** Pause between two polls, in ms, for endpoints that answer at once. Default `1000`; `0` for long-polling servers. */
  pollIntervalMs?: number;
  /** Silence after which a plain connection counts as dead, in ms (SSE comment lines count as traffic). Default `0`: never. */
  idleTimeoutMs?: number;
}

/** What plain transports of one client share across reconnects. */
export interface PlainState {
  /** Local sequence number given to the last message handed over (plain servers send none). */
  lastId: number;
  /** Highest outbound sequence number handed to the network (plain servers acknowledge nothing). */
  sentSeq: number;
  /** Last SSE `id:` seen, sent back as Last-Event-ID. */
  lastEventId: string | undefined;
  /** Cursor from the last poll answer, sent back on the next poll. */
  cursor: string | undefined;
  /** Reconnect delay an SSE `retry:` field asked for, in ms. */
  retryMs: number | undefined;
}

export const newPlainState = (): PlainState => ({ lastId: 0, sentSeq: 0, lastEventId: undefined, cursor: undefined, retryMs: undefined });

/** The transports a plain configuration offers, in the usual order of preference. */
export function plainTransports(endpoints: PlainEndpoints): TransportName[] {
  return (['websocket', 'sse', 'polling'] as const).filter((t) => endpoints[t] !== undefined);
}
