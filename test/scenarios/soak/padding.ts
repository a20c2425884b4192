/**
 * Message sizes for the soak: most messages are a few dozen bytes, and a seeded share of them carries padding of a
 * random length that takes the frame up to the server's message limit, so large messages cross every fault too.
 */

/** Bytes a soak frame needs besides its padding (`{"t":"msg","id":…,"e":"tick","d":{"n":…,"t":…,"pad":""}}` and the like). */
const FRAME_OVERHEAD = 160;

export interface Padder {
  /** Padding for the next message, or undefined for a small one. */
  next(): string | undefined;
  /** Messages padded so far, and the longest padding. */
  readonly padded: number;
  readonly longest: number;
}

export function padder(random: () => number, maxMessageBytes: number, share: number): Padder {
  let padded = 0;
  let longest = 0;
  return {
    next() {
      if (share <= 0 || random() >= share) return undefined;
      const length = Math.floor(random() * (maxMessageBytes - FRAME_OVERHEAD + 1));
      padded++;
      longest = Math.max(longest, length);
      return 'x'.repeat(length);
    },
    get padded() {
      return padded;
    },
    get longest() {
      return longest;
    },
  };
}
