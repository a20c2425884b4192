/**
 * Where the handshake's private parameters travel (docs/protocol.md, "Where parameters travel"). Browsers print the
 * URL of a failed request to the console, so the resume secret and the auth token never go into one: HTTP requests
 * carry them in headers, a WebSocket handshake (which can send no headers) in a subprotocol.
 */

/**
 * What must stay out of URLs: the session's resume secret, the auth provider's token, and the client's join key (a
 * random id of its own: handshakes that race each other with one key share one new session).
 */
export interface PrivateParams {
  secret?: string;
  token?: string;
  join?: string;
}

/** A join key: 16 to 64 base64url characters. */
export const JOIN_KEY = /^[A-Za-z0-9_-]{16,64}$/;

/** Request headers of the HTTP transports (the token goes as `Authorization: Bearer`). */
export const HEADERS = {
  secret: 'X-Realtime-Secret',
  join: 'X-Realtime-Join',
  /** A later poll's acknowledgement, so its URL stays the same and a cross-origin preflight is asked once. */
  last: 'X-Realtime-Last',
} as const;

/** The subprotocol our server selects; a browser fails a handshake whose answer selects none it offered. */
export const WS_SUBPROTOCOL = 'realtime-fallback.v1';

/** Prefix of the second subprotocol, whose rest is the private parameters as base64url JSON. */
const PARAMS_PREFIX = 'realtime-fallback.p.';

const base64url = (bytes: Uint8Array): string => {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** A new join key: 128 random bits; none where there is no `crypto.getRandomValues` to make one unguessable. */
export function newJoinKey(): string | undefined {
  const crypto = (globalThis as { crypto?: Pick<Crypto, 'getRandomValues'> }).crypto;
  return crypto?.getRandomValues ? base64url(crypto.getRandomValues(new Uint8Array(16))) : undefined;
}

/** The subprotocols a WebSocket offers: none when there is nothing private to send, as before. */
export function offeredSubprotocols(params: PrivateParams): string[] {
  if (params.secret === undefined && params.token === undefined && params.join === undefined) return [];
  return [WS_SUBPROTOCOL, PARAMS_PREFIX + base64url(new TextEncoder().encode(JSON.stringify(params)))];
}

/**
 * Reads the private parameters from the offered subprotocols (`Sec-WebSocket-Protocol`); `undefined` when none were
 * sent, a reason when they cannot be read.
 */
export function readSubprotocols(offered: readonly string[]): PrivateParams | string | undefined {
  const carrier = offered.find((p) => p.startsWith(PARAMS_PREFIX));
  if (carrier === undefined) return undefined;
  const encoded = carrier.slice(PARAMS_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return 'the parameters subprotocol is not base64url';
  let value: unknown;
  try {
    const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  } catch {
    return 'the parameters subprotocol is not base64url JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the parameters subprotocol is not an object';
  const params: PrivateParams = {};
  for (const name of ['secret', 'token', 'join'] as const) {
    const v = (value as Record<string, unknown>)[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') return 'the parameters subprotocol holds a value that is not a string';
    params[name] = v;
  }
  return params;
}
