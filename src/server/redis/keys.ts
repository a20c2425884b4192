/**
 * Key names. Every key of one session carries the hash tag `{sid}`, so Redis Cluster would put them in one slot and a
 * script may touch them together.
 */
export interface SessionKeys {
  /** HASH: secret, positions, owner; see SessionLog. */
  readonly state: string;
  /** LIST of the unacknowledged sequenced frames' JSON, oldest first (frame `firstId` at index 0). */
  readonly out: string;
  /** SET of the session's rooms. */
  readonly rooms: string;
  /** LIST of events other nodes sent the session, not numbered yet: its owner numbers them (inbox-drain.ts). */
  readonly inbox: string;
  /** HASH client seq → the client frame recorded with its acceptance, until its handler is done (redelivery). */
  readonly pending: string;
}

export const DEFAULT_KEY_PREFIX = 'rf:';

export function sessionKeys(prefix: string, sid: string): SessionKeys {
  // A brace inside the id would move the hash tag and split the session across slots.
  if (sid === '' || /[{}]/.test(sid)) throw new TypeError(`session id must be non-empty without braces: ${JSON.stringify(sid)}`);
  const base = `${prefix}{${sid}}:`;
  return { state: `${base}state`, out: `${base}out`, rooms: `${base}rooms`, inbox: `${base}inbox`, pending: `${base}pending` };
}

/** STREAM of fanned-out events every process reads in the same order (StreamBus), trimmed to a maximum length. */
export function busStream(prefix: string): string {
  return `${prefix}bus`;
}

/** STRING: how many entries were ever added to the bus stream (each entry carries its count, to tell gaps). */
export function busCount(prefix: string): string {
  return `${prefix}bus:n`;
}
