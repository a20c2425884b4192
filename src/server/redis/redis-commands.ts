/**
 * What the Redis data layer needs of a client: one raw command per call, answered in order. node-redis (v6) passes
 * as it is (`client.sendCommand`); another client fits with a one-line wrapper (ioredis: `(a) => redis.call(...a)`).
 * Keeping it this small lets tests count round trips and lets the adapter bring the app's own client.
 */
export interface RedisCommands {
  sendCommand(args: readonly string[]): Promise<unknown>;
}

// Replies are read loosely on purpose: node-redis answers RESP3 by default and other clients RESP2, and the scripts
// return only integers, strings and flat arrays, which read the same under both.

export function replyArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError(`${what}: expected an array reply, got ${typeof reply}`);
  return reply;
}

export function replyInt(reply: unknown, what: string): number {
  const n = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN;
  if (!Number.isSafeInteger(n)) throw new TypeError(`${what}: expected an integer reply, got ${String(reply)}`);
  return n;
}

export function replyText(reply: unknown, what: string): string {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString('utf8');
  throw new TypeError(`${what}: expected a string reply, got ${typeof reply}`);
}

// Arguments are checked before they reach Redis: a script given a bad number would write nonsense atomically.

export function positiveInt(value: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer: ${value}`);
  return String(value);
}

export function nonNegativeInt(value: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer: ${value}`);
  return String(value);
}
