/**
 * Two counters flowing at once: the server emits `tick` 1..n to the client at a steady pace, the client emits
 * `up` 1..m to the server. Used to check exactly-once, in-order delivery while connections die underneath.
 */
import type { Session } from '../../../src/server';
import { waitUntil, type AnyClient, type Harness } from './harness';

export interface Streams {
  /** `tick` payloads as the client's app saw them. */
  readonly clientGot: number[];
  /** `up` payloads as the server's handler saw them (every session's handler: duplicates across sessions show). */
  readonly serverGot: number[];
  /** How many ticks the server has emitted so far. */
  readonly serverSent: () => number;
  /** How many `up` emits the client has made so far. */
  readonly clientSent: () => number;
  /** Waits until `count` more ticks arrived than at the call (capped at n), with the client open. */
  progress(count: number, timeoutMs?: number): Promise<void>;
  /** Waits until both counters are complete on the receiving side. */
  done(timeoutMs?: number): Promise<void>;
  stop(): void;
}

export interface StreamOptions {
  /** Server → client ticks. */
  n: number;
  /** Client → server emits. */
  m: number;
  /** Pace of server ticks and client emits, in ms. */
  serverEveryMs: number;
  clientEveryMs: number;
}

const active = new Set<Streams>();

/** Stops the pacing timers of every stream (afterEach). */
export function stopStreams(): void {
  for (const s of [...active]) s.stop();
}

/**
 * Installs the `up` handler on every session the server creates (call before the client connects) and returns a
 * starter. `start()` begins both counters once the client is open.
 */
export function streamRig(h: Harness, options: StreamOptions): { start(client: AnyClient): Streams } {
  const serverGot: number[] = [];
  h.rt.on('connection', (s: Session) => {
    s.on('up', (d) => void serverGot.push(d as number));
  });
  return {
    start(client: AnyClient): Streams {
      const clientGot: number[] = [];
      client.on('tick', (d) => void clientGot.push(d as number));
      const sid = client.sessionId;
      const session = sid === null ? undefined : h.rt.session(sid);
      if (!session) throw new Error('start the streams once the client is open');
      let sent = 0;
      let emitted = 0;
      const serverTimer = setInterval(() => {
        if (sent >= options.n) return clearInterval(serverTimer);
        session.emit('tick', ++sent);
      }, options.serverEveryMs);
      const clientTimer = setInterval(() => {
        if (emitted >= options.m) return clearInterval(clientTimer);
        client.emit('up', ++emitted);
      }, options.clientEveryMs);
      const streams: Streams = {
        clientGot,
        serverGot,
        serverSent: () => sent,
        clientSent: () => emitted,
        async progress(count, timeoutMs = 5000) {
          const target = Math.min(options.n, clientGot.length + count);
          await waitUntil(
            () => client.state === 'open' && clientGot.length >= target,
            timeoutMs,
            () => `${target} ticks with the client open (got ${clientGot.length}, state ${client.state}, transport ${client.transport})`,
          );
        },
        async done(timeoutMs = 15_000) {
          await waitUntil(
            () => clientGot.length >= options.n && serverGot.length >= options.m && client.queued.messages === 0,
            timeoutMs,
            () =>
              `both counters complete: client got ${clientGot.length}/${options.n}, server got ${serverGot.length}/${options.m} ` +
              `(server sent ${sent}, client emitted ${emitted}, outbox ${client.queued.messages}, state ${client.state}, transport ${client.transport})`,
          );
        },
        stop() {
          clearInterval(serverTimer);
          clearInterval(clientTimer);
          active.delete(streams);
        },
      };
      active.add(streams);
      return streams;
    },
  };
}

/** Describes where a sequence departs from 1..n (for readable failures besides the exact `toEqual`). */
export function sequenceProblems(got: readonly number[], n: number): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  got.forEach((v, i) => {
    if (seen.has(v)) problems.push(`duplicate ${v} at index ${i}`);
    seen.add(v);
    if (i > 0 && v !== got[i - 1]! + 1 && !seen.has(v - 1)) problems.push(`jump ${got[i - 1]} → ${v} at index ${i}`);
  });
  for (let v = 1; v <= n; v++) if (!seen.has(v)) problems.push(`missing ${v}`);
  return problems.slice(0, 20);
}
