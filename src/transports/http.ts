/** What the fetch-based transports of both modes ask of an HTTP exchange. */

import type { TransportConnectParams } from './transport';

/** What every HTTP request of a transport carries: the owner's extra headers and its credentials choice. */
export type RequestDefaults = Pick<TransportConnectParams, 'headers' | 'withCredentials'>;

/** `application/json` or any `+json` type, with or without parameters. */
const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

export function isJsonType(contentType: string): boolean {
  return JSON_TYPE.test(contentType);
}

/** Cookies and HTTP auth go cross-origin only when the owner asked for them, as with `withCredentials`. */
export function credentialsMode(withCredentials: boolean): RequestCredentials {
  return withCredentials ? 'include' : 'same-origin';
}
