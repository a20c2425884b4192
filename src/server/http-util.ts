import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorFrame, ProtocolErrorCode } from '../protocol/frames';
import { PROTOCOL_VERSION, QUERY } from '../protocol/frames';
import { HEADERS, JOIN_KEY } from '../protocol/carriers';
import { encodeBatch } from '../protocol/codec';
import type { HandshakeParams } from './session-manager';
import type { ResolvedOptions } from './options';
import type { RequestParams } from './request-params';
import { requestPeer } from './proxy-trust';
import { addressRange } from './address-range';


export const errorFrame = (code: ProtocolErrorCode, message: string, status?: number): ErrorFrame =>
  status === undefined ? { t: 'error', code, message } : { t: 'error', code, message, status };

/**
 * The client for per-client limits: the range (`clientAddressPrefix`) of its address, which is the socket's peer or
 * the first untrusted forwarded hop.
 */
export const clientAddress = (req: IncomingMessage, opts: ResolvedOptions): string =>
  addressRange(requestPeer(req, opts.trustProxy).address, opts.clientAddressPrefix);

/** CORS response headers for an allowed request (echoing its origin). */
export function corsHeaders(req: IncomingMessage, cors: ResolvedOptions['cors']): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  const h: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  if (cors.credentials) h['Access-Control-Allow-Credentials'] = 'true';
  return h;
}

/** Headers our client sends on its own (besides an app's `auth` headers): a preflight asking only for these asks for nothing foreign. */
const PROTOCOL_HEADERS: ReadonlySet<string> = new Set([HEADERS.secret, HEADERS.join, HEADERS.last, 'authorization', 'content-type'].map((h) => h.toLowerCase()));

/** Whether a preflight asks for no header but the protocol's own. */
export function asksProtocolHeadersOnly(req: IncomingMessage): boolean {
  const asked = req.headers['access-control-request-headers'];
  if (typeof asked !== 'string') return true;
  return asked.split(',').every((h) => h.trim() === '' || PROTOCOL_HEADERS.has(h.trim().toLowerCase()));
}

/** Answers a CORS preflight. */
export function preflight(req: IncomingMessage, res: ServerResponse, cors: ResolvedOptions['cors']): void {
  const h: Record<string, string> = {
    ...corsHeaders(req, cors),
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Max-Age': '600',
    'Content-Length': '0',
  };
  const asked = req.headers['access-control-request-headers'];
  if (typeof asked === 'string') h['Access-Control-Allow-Headers'] = asked;
  res.writeHead(204, h).end();
}

/** Sends a JSON array of frames with `Cache-Control: no-store`. */
export function sendFrames(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string,
  cors: ResolvedOptions['cors'],
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...corsHeaders(req, cors),
    ...extra,
  });
  res.end(body);
}

export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: ProtocolErrorCode,
  message: string,
  cors: ResolvedOptions['cors'],
): void {
  sendFrames(req, res, status, encodeBatch([errorFrame(code, message, status)]), cors);
}

/** `error{unavailable}`: try again after `retryAfter` seconds (a node shutting down, a session store unreachable). */
export const unavailableFrame = (message: string, retryAfter = 1): ErrorFrame => ({ ...errorFrame('unavailable', message, 503), retryAfter });

/** Why a handshake or POST must be retried: the session store could not be read or written. */
export const STORE_UNREACHABLE = 'session store unreachable; try again';

/** HTTP 503 + `Retry-After` with `error{unavailable}`. */
export function sendUnavailable(req: IncomingMessage, res: ServerResponse, cors: ResolvedOptions['cors'], message: string, retryAfter = 1): void {
  sendFrames(req, res, 503, encodeBatch([unavailableFrame(message, retryAfter)]), cors, { 'Retry-After': String(retryAfter) });
}

/** Why a body was not read: over the request's limit, over the process's budget, or the request went away. */
export type BodyRefusal = 'too_large' | 'over_budget' | 'aborted';

/**
 * Reads a request body as UTF-8, refusing more than `limit` bytes, and taking each chunk from `take` (false: the
 * process holds too many bodies already). Resolves with the bytes it held either way, for the caller to give back.
 */
export function readBody(req: IncomingMessage, limit: number, take: (bytes: number) => boolean): Promise<{ held: number } & ({ ok: true; text: string } | { ok: false; why: BodyRefusal })> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: { ok: true; text: string } | { ok: false; why: BodyRefusal }) => {
      if (done) return;
      done = true;
      if (!r.ok) chunks.length = 0;
      resolve({ held: size, ...r });
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      if (size + chunk.length > limit) return refuse('too_large');
      if (!take(chunk.length)) return refuse('over_budget');
      size += chunk.length;
      chunks.push(chunk);
    });
    const refuse = (why: BodyRefusal) => {
      finish({ ok: false, why });
      req.resume(); // drain the rest so the answer can be sent
    };
    req.on('end', () => finish({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', () => finish({ ok: false, why: 'aborted' }));
    req.on('close', () => finish({ ok: false, why: 'aborted' }));
  });
}

/** Runs the `authenticate` hook. Refusal, `false` or a throw → not ok. */
export async function authenticate(opts: ResolvedOptions, req: IncomingMessage): Promise<{ ok: true; auth: unknown } | { ok: false }> {
  if (!opts.authenticate) return { ok: true, auth: true };
  try {
    const result = await opts.authenticate(req);
    return result ? { ok: true, auth: result } : { ok: false };
  } catch (err) {
    opts.logger.debug('authenticate refused', { err });
    return { ok: false };
  }
}

export const parseCount = (v: string | null): number | undefined | null => {
  if (v === null || v === '') return undefined;
  if (!/^\d{1,16}$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
};

/**
 * Validates the handshake parameters (`v`, `sid`, `secret`, `last`); `lastFallback` is SSE's `Last-Event-ID`.
 * Returns the reason on failure (→ `bad_request`).
 */
export function parseHandshake(p: RequestParams, lastFallback?: string): { ok: true; params: HandshakeParams } | { ok: false; reason: string } {
  const q = p.url.searchParams;
  if (q.get(QUERY.version) !== String(PROTOCOL_VERSION)) return { ok: false, reason: `unsupported protocol version (expected v=${PROTOCOL_VERSION})` };
  if (p.malformed !== undefined) return { ok: false, reason: p.malformed };
  let last = parseCount(p.last);
  if (last === undefined && lastFallback !== undefined) last = parseCount(lastFallback);
  if (last === null) return { ok: false, reason: 'last must be a non-negative integer' };
  if (p.join !== undefined && !JOIN_KEY.test(p.join)) return { ok: false, reason: 'the join key must be 16 to 64 base64url characters' };
  const sid = q.get(QUERY.session) ?? undefined;
  const params: HandshakeParams = { last: last ?? 0 };
  if (p.join !== undefined) params.join = p.join;
  if (sid) params.sid = sid;
  if (p.secret !== undefined) params.secret = p.secret;
  return { ok: true, params };
}


