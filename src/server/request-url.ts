import type { IncomingMessage } from 'node:http';

/**
 * The request's URL (its path and query; the host is a placeholder), or null when the request line cannot be read as
 * one. A path is read as a path even when it starts with `//` (`//x:99999/` is not a host and port); the absolute
 * form (`GET http://host/path`) is read as a URL. Never throws: a request line is untrusted input.
 */
export function parseRequestUrl(raw: string | undefined): URL | null {
  const target = raw ?? '/';
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
  } catch {
    return null;
  }
}

/**
 * The request's path without the query, read from the raw request line (for routing what `parseRequestUrl` refused);
 * in the absolute form, what follows the authority.
 */
export const rawPath = (raw: string | undefined): string => (raw ?? '/').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/, 1)[0]!;

/**
 * A request line fit for a log: the path (cut at 200 characters) and the query's names, never its values (a token or
 * an old client's `secret` travel there).
 */
export function redactedUrl(raw: string | undefined): string {
  const target = raw ?? '/';
  const q = target.indexOf('?');
  const path = (q === -1 ? target : target.slice(0, q)).slice(0, 200);
  if (q === -1) return path;
  const names = target
    .slice(q + 1)
    .split('&')
    .slice(0, 20)
    .map((pair) => `${pair.split('=', 1)[0]!.slice(0, 40)}=…`);
  return `${path}?${names.join('&')}`;
}

/** The URL of a request already routed to us (its line parsed when it was routed). */
export const requestUrl = (req: IncomingMessage): URL => parseRequestUrl(req.url) ?? new URL('http://localhost/');
