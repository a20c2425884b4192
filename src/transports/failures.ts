import { decodeServerBatch } from '../protocol/codec';
import type { TransportFailure } from './transport';

/**
 * An error's message, or whatever was thrown as a string, for a failure message. Node's fetch says only "fetch
 * failed": the reason (ECONNREFUSED, a TLS error such as https:// to a plain HTTP server) is its `cause`, added here.
 */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown; errors?: { message?: unknown }[] } | undefined;
  if (cause === null || typeof cause !== 'object') return err.message;
  const code = typeof cause.code === 'string' ? cause.code : '';
  // An AggregateError (every address of a host refused) has an empty message; its first error names one.
  const text = String(cause.message || cause.errors?.[0]?.message || '').slice(0, 200);
  const reason = text.includes(code) ? text : text ? `${code}: ${text}` : code;
  return reason ? `${err.message} (${reason})` : err.message;
}

/** Reads `Retry-After` as seconds (delta-seconds or an HTTP date). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The part of an HTTP answer a failure is built from: a fetch `Response`, or what event-source-polyfill reports. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers?: { get(name: string): string | null };
}

/**
 * An HTTP error answer as a failure: its status, `Retry-After`, and the protocol error its body names (our server
 * answers errors with a JSON `[error]`; a proxy's HTML page names none).
 */
export function httpFailure(what: string, res: HttpAnswer, body = ''): TransportFailure {
  const failure: TransportFailure = { kind: 'http', status: res.status, message: `${what} answered ${res.status}` };
  const retryAfter = parseRetryAfter(res.headers?.get('Retry-After') ?? null);
  if (retryAfter !== undefined) failure.retryAfter = retryAfter;
  const decoded = body.startsWith('[') ? decodeServerBatch(body) : undefined;
  const error = decoded?.ok ? decoded.frame[0] : undefined;
  if (error?.t === 'error') {
    failure.code = error.code;
    failure.message += `: ${error.code}: ${error.message}`;
  }
  return failure;
}
