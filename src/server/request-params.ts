import type { IncomingMessage } from 'node:http';
import { HEADERS, readSubprotocols, type PrivateParams } from '../protocol/carriers';
import { QUERY } from '../protocol/frames';
import { requestUrl } from './request-url';

/**
 * A request's protocol parameters wherever the client put them (docs/protocol.md, "Where parameters travel"): the
 * WebSocket subprotocol first, then headers, then the query, where 0.1 clients put everything.
 */
export interface RequestParams {
  readonly url: URL;
  /** The session's resume secret. */
  readonly secret: string | undefined;
  /** `last`: a later poll's header, else the query. */
  readonly last: string | null;
  /** The auth token, when one came in a subprotocol or as `access_token`. */
  readonly token: string | undefined;
  /** The client's join key, on handshakes. */
  readonly join: string | undefined;
  /** Why the parameters subprotocol could not be read: the handshake is a `bad_request`. */
  readonly malformed: string | undefined;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
};

export function requestParams(req: IncomingMessage): RequestParams {
  const url = requestUrl(req);
  const offered = header(req, 'sec-websocket-protocol');
  const carried = offered === undefined ? undefined : readSubprotocols(offered.split(',').map((p) => p.trim()));
  const fromProtocol: PrivateParams = typeof carried === 'object' ? carried : {};
  const q = url.searchParams;
  return {
    url,
    secret: fromProtocol.secret ?? header(req, HEADERS.secret) ?? q.get(QUERY.secret) ?? undefined,
    last: header(req, HEADERS.last) ?? q.get(QUERY.last),
    token: fromProtocol.token ?? q.get(QUERY.token) ?? undefined,
    join: fromProtocol.join ?? header(req, HEADERS.join),
    malformed: typeof carried === 'string' ? carried : undefined,
  };
}

/**
 * Puts a token that came in a subprotocol or the query into `Authorization: Bearer`, so `authenticate` reads one
 * place whatever the transport; an `Authorization` the request already has wins.
 */
export function exposeToken(req: IncomingMessage, params: RequestParams): void {
  if (params.token !== undefined && req.headers.authorization === undefined) req.headers.authorization = `Bearer ${params.token}`;
}
