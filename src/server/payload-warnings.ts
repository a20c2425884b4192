import { createPayloadWarner } from '../protocol/payload-warnings';

/** One warner for the process: each event and place is warned of once. */
let check: ReturnType<typeof createPayloadWarner> | undefined;

/**
 * In development (`NODE_ENV` other than `production`), warns on the console of each place of `data` JSON would change
 * on the way to the client (a Map sent as {}, NaN as null, a function dropped: src/protocol/payload-warnings.ts).
 */
export function warnPayloadChanges(kind: 'emit' | 'reply to', event: string, data: unknown): void {
  if (process.env.NODE_ENV === 'production') return;
  check ??= createPayloadWarner((message) => console.warn(`realtime-fallback/server: ${message}`));
  check(kind, event, data);
}
