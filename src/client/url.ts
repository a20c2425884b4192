import { RealtimeError } from './errors';

/** Accepts http(s), ws(s) and page-relative URLs; the endpoint is kept as http(s), without a trailing slash. */
export function normaliseUrl(url: string): string {
  if (typeof url !== 'string' || url.length === 0) throw new RealtimeError('invalid_argument', 'url must be a non-empty string');
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let parsed: URL;
  try {
    parsed = base ? new URL(url, base) : new URL(url);
  } catch (cause) {
    throw new RealtimeError('invalid_argument', `invalid url ${JSON.stringify(url)}`, { cause });
  }
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RealtimeError('invalid_argument', `url must use http, https, ws or wss, got ${parsed.protocol}`);
  }
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}
