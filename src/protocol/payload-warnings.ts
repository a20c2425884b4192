import { walkPayload, type PayloadFinding } from './payload-check';

/**
 * Development-time warnings for payloads JSON would change on the way (a Map sent as {}, NaN as null, a function
 * dropped). Callers reach this only behind `process.env.NODE_ENV !== 'production'`, so production builds leave it out.
 */

/** How many event+place pairs one warner remembers; past that it warns no more (it says so once). */
const MAX_REMEMBERED = 500;

/** Says what JSON sends instead of the value found. */
export function describeChange({ path, issue, value, slot }: PayloadFinding): string {
  const name = (Object.getPrototypeOf(value ?? {}) as { constructor?: { name?: string } } | null)?.constructor?.name || 'object';
  const what =
    issue === 'non_finite'
      ? String(value)
      : issue === 'dropped'
        ? value === undefined
          ? 'undefined'
          : `a ${typeof value}`
        : `a ${name}`;
  let sent: string;
  if (issue === 'dropped') sent = slot === 'element' ? 'null' : slot === 'field' ? 'nothing (the field is left out)' : 'no data (it arrives as undefined)';
  else if (issue === 'non_finite') sent = 'null';
  else if (issue === 'collection') sent = `{} (its entries are lost: convert it, e.g. Object.fromEntries(map) or [...set])`;
  else if (issue === 'binary') sent = ArrayBuffer.isView(value) && !(value instanceof DataView) ? 'an object of numbered keys (send an array or base64)' : '{}';
  else sent = '{} (it has no own enumerable fields)';
  return `${path} is ${what}: JSON sends ${sent}`;
}

/**
 * A warner for one client or server: `check(kind, event, data)` warns through `warn` for each place of `data` JSON
 * would change, once per event name and place (array indices count as one place: `items[].at`), not on every emit.
 */
export function createPayloadWarner(warn: (message: string) => void): (kind: string, event: string, data: unknown) => void {
  const warned = new Set<string>();
  let full = false;
  return (kind, event, data) => {
    walkPayload(data, 'payload', (finding) => {
      if (full) return true;
      // JSON.stringify throws there: the caller's error names the place, and nothing is sent.
      if (finding.issue === 'bigint' || finding.issue === 'cycle' || finding.issue === 'throws') return true;
      const key = `${event}\u0000${finding.path.replace(/\[\d+\]/g, '[]')}`;
      if (warned.has(key)) return;
      if (warned.size >= MAX_REMEMBERED) {
        full = true;
        warn(`more payloads JSON would change; no more warnings of this kind (${MAX_REMEMBERED} places warned of)`);
        return true;
      }
      warned.add(key);
      warn(`${kind} "${event}": ${describeChange(finding)}`);
    });
  };
}
