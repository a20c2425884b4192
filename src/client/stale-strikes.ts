import type { TransportName } from '../protocol/frames';

/** Stale welcomes (see welcome-hold.ts) on one transport after which the walk passes it by for a while. */
export const STRIKES_TO_AVOID = 2;
/** How long a transport is passed by once it earned its strikes; strikes further apart than this do not add up. */
export const AVOID_MS = 5 * 60_000;

/**
 * The transports whose welcome kept coming only with the end of their stream (a proxy in front buffers it), for the
 * life of the client. Each such attempt cost a head start (`raceAfterMs`) before the next transport raced it and
 * took the session; after `STRIKES_TO_AVOID` the walk and the race skip the transport for `AVOID_MS`, so a session
 * that flapped between two transports stays on the one that delivers. In memory only: the transport that worked is
 * what transport-memory.ts keeps across page loads.
 */
export interface StaleStrikes {
  strike(name: TransportName, now: number): void;
  avoided(name: TransportName, now: number): boolean;
}

export function createStaleStrikes(): StaleStrikes {
  /** Strikes so far, and when the last one came. */
  const strikes = new Map<TransportName, { count: number; at: number }>();
  const avoidUntil = new Map<TransportName, number>();
  return {
    strike(name, now) {
      const last = strikes.get(name);
      const count = last && now - last.at < AVOID_MS ? last.count + 1 : 1;
      if (count < STRIKES_TO_AVOID) return void strikes.set(name, { count, at: now });
      strikes.delete(name);
      avoidUntil.set(name, now + AVOID_MS);
    },
    avoided(name, now) {
      const until = avoidUntil.get(name);
      if (until === undefined) return false;
      if (until > now) return true;
      avoidUntil.delete(name); // served its time: the next stale welcome counts from one again
      return false;
    },
  };
}
