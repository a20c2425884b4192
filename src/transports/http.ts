/** What the fetch-based transports of both modes ask of an HTTP exchange. */

import { HEADERS, type PrivateParams } from '../protocol/carriers';
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

/**
 * The owner's headers plus the private parameters (`secret`: the one to present now, which a welcome may have
 * replaced). The token goes as `Authorization: Bearer` unless the owner's headers already authorize.
 */
export function withPrivateHeaders(headers: Readonly<Record<string, string>>, hidden: Readonly<PrivateParams>): Record<string, string> {
  const all: Record<string, string> = { ...headers };
  if (hidden.secret !== undefined) all[HEADERS.secret] = hidden.secret;
  if (hidden.join !== undefined) all[HEADERS.join] = hidden.join;
  if (hidden.token !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) all.Authorization = `Bearer ${hidden.token}`;
  return all;
}
