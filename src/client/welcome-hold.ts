import type { ServerFrame, WelcomeFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import type { Connection } from './connection';
import type { BackoffScheduler } from './scheduler';
import { createStaleStrikes } from './stale-strikes';

/** Frames a held welcome gathers at most before it is judged at once (what one read carries is far fewer). */
export const MAX_HELD_FRAMES = 1000;

/** What the hold decides about a welcome. */
export interface WelcomeVerdicts {
  /** Nothing ended the connection in the welcome's turn: it may win. `after`: the frames that came behind it. */
  fresh(conn: Connection, welcome: WelcomeFrame, after: ServerFrame[]): void;
  /** The welcome came with the end of its connection (a proxy let it out only then): it must not win. */
  stale(conn: Connection, failure: TransportFailure): void;
}

/**
 * Holds the welcome of an attempt that races another for one turn before it may win. A proxy that buffers an event
 * stream lets the welcome out only when the stream ends: then the server has already replaced that connection (the
 * racer's handshake joined the session) and the same read carries its close{replaced}, or the stream's end. Such a
 * welcome opened, the client was replaced at once and tried again, for ever. Frames after the welcome wait with it.
 * Each stale welcome is a strike against its transport (stale-strikes.ts). Loaded with the first racer (race.ts):
 * a client whose first transport welcomes in time never downloads it.
 */
export interface WelcomeHold {
  hold(conn: Connection, welcome: WelcomeFrame): void;
  holds(conn: Connection): boolean;
  /** A frame on a connection whose welcome is held. */
  frame(conn: Connection, frame: ServerFrame): void;
  /** A connection whose welcome is held failed: its welcome came with its end. */
  failed(conn: Connection, failure: TransportFailure): void;
  /** Forgets every held welcome (their connections were closed). */
  clear(): void;
  /** `conn` won the race with a welcome that passed its hold. */
  won(conn: Connection): void;
  /**
   * `conn` was replaced (`failure` absent: close{replaced}) or its SSE stream ended: when it won the race less than
   * a head start ago, its welcome was probably stale (the proxy let the stream out in pieces, so the hold saw no end),
   * and that is a strike. Probably: a racer's handshake that reached the server after this one opened replaces it
   * too, so one such drop is reopened as any other. Once the strikes make the transport avoided, returns the failure
   * to report instead (`buffered`: the walk moves on at once rather than reopening it); else null.
   */
  staleWinner(conn: Connection, failure?: TransportFailure): TransportFailure | null;
  /** Whether the walk and the race pass `name` by for now: its welcomes kept coming stale. */
  avoided(name: Connection['name']): boolean;
}

interface Held {
  welcome: WelcomeFrame;
  after: ServerFrame[];
  cancel: () => void;
}

/** `headStartMs`: the race's `raceAfterMs`, how long after winning a replacement still means the welcome was stale. */
export function createWelcomeHold(scheduler: BackoffScheduler, headStartMs: number, verdicts: WelcomeVerdicts): WelcomeHold {
  const held = new Map<Connection, Held>();
  const strikes = createStaleStrikes();
  let winner: { conn: Connection; at: number } | null = null;

  const take = (conn: Connection): Held | undefined => {
    const entry = held.get(conn);
    if (!entry) return undefined;
    held.delete(conn);
    entry.cancel();
    return entry;
  };
  const fresh = (conn: Connection): void => {
    const entry = take(conn);
    if (entry) verdicts.fresh(conn, entry.welcome, entry.after);
  };
  const stale = (conn: Connection, why: string, code?: string): void => {
    if (!take(conn)) return;
    const failure: TransportFailure = { kind: 'buffered', message: `${conn.name}: its welcome came with ${why}: a proxy held the stream back until it ended` };
    if (code !== undefined) failure.code = code;
    // A server going away (close{shutdown}) is not the proxy's doing: no strike against the transport.
    if (code === undefined || code === 'replaced') strikes.strike(conn.name, scheduler.now());
    verdicts.stale(conn, failure);
  };

  return {
    hold(conn, welcome) {
      take(conn);
      // A zero delay runs after what the transport hands over from the same read (event-source-polyfill and our
      // parser dispatch a chunk's events at once; a native EventSource queues them as tasks before this one).
      held.set(conn, { welcome, after: [], cancel: scheduler.schedule(() => fresh(conn), 0) });
    },
    holds: (conn) => held.has(conn),
    frame(conn, frame) {
      const entry = held.get(conn);
      if (!entry) return;
      if (frame.t === 'close') return stale(conn, `close{${frame.code}}`, frame.code);
      if (frame.t === 'ping') return; // liveness starts when it opens
      entry.after.push(frame);
      if (entry.after.length >= MAX_HELD_FRAMES) fresh(conn); // a live stream: no proxy held this much back
    },
    failed(conn, failure) {
      // Anything but a dropped or ended stream (bad frames behind the welcome, say) loses as itself, no strike.
      if (failure.kind === 'network') stale(conn, `the end of its stream (${failure.message})`);
      else if (take(conn)) verdicts.stale(conn, failure);
    },
    clear() {
      for (const entry of held.values()) entry.cancel();
      held.clear();
    },
    won(conn) {
      winner = { conn, at: scheduler.now() };
    },
    staleWinner(conn, failure) {
      if (winner?.conn !== conn || scheduler.now() - winner.at >= headStartMs) return null;
      if (failure && (conn.name !== 'sse' || failure.kind !== 'network')) return null;
      winner = null;
      strikes.strike(conn.name, scheduler.now());
      if (!strikes.avoided(conn.name, scheduler.now())) return null;
      const why = failure ? `its stream ended (${failure.message})` : 'close{replaced}';
      return { kind: 'buffered', message: `${conn.name}: ${why} right after it won the race: its welcome was stale (a proxy held the stream back)` };
    },
    avoided: (name) => strikes.avoided(name, scheduler.now()),
  };
}
