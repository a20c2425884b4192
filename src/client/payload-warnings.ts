import { createPayloadWarner } from '../protocol/payload-warnings';

/** One warner for the page: each event and place is warned of once, whichever client sent it. */
let check: ReturnType<typeof createPayloadWarner> | undefined;

/**
 * Development only (call it behind `process.env.NODE_ENV !== 'production'`): warns on the console of each place of
 * `data` JSON would change on the way (src/protocol/payload-warnings.ts).
 */
export function warnPayloadChanges(kind: 'emit' | 'request', event: string, data: unknown): void {
  check ??= createPayloadWarner((message) => (globalThis as { console?: { warn(m: string): void } }).console?.warn(`realtime-fallback: ${message}`));
  check(kind, event, data);
}
