import { unencodableAt } from '../protocol/payload-check';
import { RealtimeError } from './errors';
import { warnPayloadChanges } from './payload-warnings';

/** What bundlers replace (`process.env.NODE_ENV`); declared here so the client's types need no Node types. */
declare const process: { env: { NODE_ENV?: string } };

/**
 * An emit's or a request's frame as JSON text, as the outbox will send it. Data JSON cannot carry (a BigInt, a cycle)
 * is an `invalid_argument` naming the place; in development, data JSON would change (a Map, NaN, a function) is
 * warned of on the console.
 */
export function encodePayload(kind: 'emit' | 'req', event: string, data: unknown): string {
  let text: string;
  try {
    text = JSON.stringify({ e: event, d: data });
  } catch (cause) {
    // Only now is the payload walked, to name the place: the production cost of a good payload is the stringify.
    const where = unencodableAt(data);
    throw new RealtimeError('invalid_argument', `payload of "${event}" is not JSON-serialisable: ${where ?? String(cause)}`, { cause });
  }
  // Bundlers drop this in production builds; unbundled in a browser there is no `process`, and no warning.
  try {
    if (process.env.NODE_ENV !== 'production') warnPayloadChanges(kind === 'emit' ? 'emit' : 'request', event, data);
  } catch {}
  return text;
}
