/** Query parameters of a transport URL; an `undefined` value is left out. */
export type QueryParams = Readonly<Record<string, string | undefined>>;

export interface UrlShape {
  /** Appended to the endpoint's path, its trailing slashes dropped first. Without it the path stays as given. */
  path?: string;
  /** Turn `http:` into `ws:` and `https:` into `wss:` (a `ws(s):` URL stays as it is). */
  ws?: boolean;
}

/** The URL builder of both modes: `endpoint + path ? query`, with the scheme swapped for WebSocket URLs. */
export function buildUrl(endpoint: string, query: QueryParams, shape: UrlShape = {}): string {
  const u = new URL(endpoint);
  if (shape.path !== undefined) u.pathname = u.pathname.replace(/\/+$/, '') + shape.path;
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v);
  if (shape.ws) u.protocol = u.protocol === 'https:' ? 'wss:' : u.protocol === 'http:' ? 'ws:' : u.protocol;
  return u.toString();
}
