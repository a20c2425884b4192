import type { IncomingMessage } from 'node:http';
import type { Logger } from './types';
import { requestPeer, type TrustPredicate } from './proxy-trust';

/** Which browser origins may talk to the server, and how the server tells its own origin behind proxies. */
export interface OriginPolicy {
  cors: { origins: readonly string[] | '*' };
  trustProxy: TrustPredicate;
}

/** Why a request's origin was refused: what to tell the browser and what to tell the operator. */
export interface OriginRefusal {
  origin: string;
  /** For the client: names the origin and the option that would allow it. */
  message: string;
  /** The origin this server believes it is reached at (for the log only: it may be an internal address). */
  serverOrigin: string | undefined;
}

/**
 * Same-origin, or listed in `cors.origins`; `null` when allowed. Requests without an `Origin` header (non-browser
 * clients) pass: browsers send one on every cross-origin request and WebSocket handshake. A browser's own
 * `Sec-Fetch-Site: same-origin` (page scripts cannot set it) passes too, which keeps same-origin pages working behind
 * proxies that rewrite Host; browsers send it on fetches only, not on WebSocket handshakes. Otherwise the server's own origin is its Host header, or what a trusted proxy forwarded.
 */
export function checkOrigin(req: IncomingMessage, policy: OriginPolicy): OriginRefusal | null {
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  if (req.headers['sec-fetch-site'] === 'same-origin') return null;
  const { origins } = policy.cors;
  if (origins === '*' || origins.includes(origin)) return null;
  const peer = requestPeer(req, policy.trustProxy);
  const serverOrigin = peer.host === undefined ? undefined : `${peer.proto}://${peer.host}`;
  if (origin === serverOrigin) return null;
  return { origin, serverOrigin, message: refusalMessage(origin, req, peer.viaTrustedProxy) };
}

function refusalMessage(origin: string, req: IncomingMessage, viaTrustedProxy: boolean): string {
  const base = `origin ${origin} is not allowed by this server: add it to the server's cors.origins option`;
  if (viaTrustedProxy) return base;
  // Would forwarded headers from an untrusted peer have made it same-origin? Then trustProxy is what is missing.
  const asIfTrusted = requestPeer(req, () => true);
  if (asIfTrusted.viaTrustedProxy && asIfTrusted.host !== undefined && `${asIfTrusted.proto}://${asIfTrusted.host}` === origin) {
    return `${base}, or (a same-origin page behind a reverse proxy) set trustProxy so the proxy's X-Forwarded-Proto/Host are believed`;
  }
  return base;
}

/** How often one origin's refusal is logged, and how many origins are remembered for that. */
const WARN_EVERY_MS = 10 * 60_000;
const WARN_ORIGINS_MAX = 1000;
/** Refusal lines per minute in all, whatever the number of origins (then one line says how many were not logged). */
const WARN_LINES_PER_MINUTE = 20;

/**
 * Logs a refused origin once per origin per 10 minutes, and at most 20 lines a minute in all: an operator needs to
 * hear of a misconfiguration, not a line per request (nor let a flood of made-up origins fill the log or the memory).
 */
export class OriginWarnings {
  /** origin → when it was last logged, and how many of its refusals were not logged since. */
  private readonly seen = new Map<string, { at: number; quiet: number }>();
  /** The current minute's start, the lines logged in it, and the refusals of new origins it did not log. */
  private minute = -Infinity;
  private lines = 0;
  private unlogged = 0;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  refused(refusal: OriginRefusal, transport: string): void {
    const now = this.now();
    const seen = this.seen.get(refusal.origin);
    if (seen !== undefined && now - seen.at < WARN_EVERY_MS) {
      seen.quiet++;
      return;
    }
    if (now - this.minute >= 60_000) {
      if (this.unlogged > 0) {
        this.logger.warn(`refused ${this.unlogged} more requests from origins not logged (over ${WARN_LINES_PER_MINUTE} lines a minute)`, { unlogged: this.unlogged });
      }
      this.minute = now;
      this.lines = 0;
      this.unlogged = 0;
    }
    if (this.lines >= WARN_LINES_PER_MINUTE) {
      this.unlogged++;
      return;
    }
    this.lines++;
    // Re-inserted, so the map's order is oldest-logged first and the oldest is forgotten at the bound.
    this.seen.delete(refusal.origin);
    if (this.seen.size >= WARN_ORIGINS_MAX) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(refusal.origin, { at: now, quiet: 0 });
    // The origin is the client's text: quoted and cut, so it cannot forge log lines or fill them.
    this.logger.warn(`refused a ${transport} request from origin ${JSON.stringify(refusal.origin.slice(0, 200))} (origin_rejected)`, {
      origin: refusal.origin,
      serverOrigin: refusal.serverOrigin,
      hint: refusal.message,
      ...(seen && seen.quiet > 0 ? { refusalsNotLoggedSinceLastWarning: seen.quiet } : {}),
    });
  }
}
