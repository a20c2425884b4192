import type { IncomingMessage, ServerResponse } from 'node:http';
import { QUERY, type ClientFrame } from '../protocol/frames';
import type { Forwarded } from './adapter';
import { decodeClientBatch, encodeBatch } from '../protocol/codec';
import type { RequestParams } from './request-params';
import { authenticate, errorFrame, readBody, sendError, sendFrames, sendUnavailable, STORE_UNREACHABLE } from './http-util';
import type { ResolvedOptions } from './options';
import type { SessionManager } from './session-manager';
import { BodyBudget } from './body-budget';
import { postBodyLimit } from '../protocol/limits';
import { inboundOverLimit } from './message-size';

/** Bytes of bodies read at once by the process: 64 MiB, or 4 bodies of the largest kind if that is more. */
const BODIES_MIN_BUDGET = 64 * 1024 * 1024;
/** POST bodies one session may have in flight: its connection's, and the one of a connection replacing it, twice. */
const BODIES_PER_CONNECTION = 4;

/** 429 + `Retry-After: 1` (unread, the connection closes): the client waits a second and carries on. */
function sendBusy(req: IncomingMessage, res: ServerResponse, cors: ResolvedOptions['cors'], message: string): void {
  const frame = { ...errorFrame('rate_limited', message, 429), retryAfter: 1 };
  sendFrames(req, res, 429, encodeBatch([frame]), cors, { 'Retry-After': '1', Connection: 'close' });
}

/** `POST E/send`: upstream frames for SSE and long-polling connections; acknowledged in the response. */
export class SendHandler {
  private readonly bodies: BodyBudget;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly sessions: SessionManager,
    /** With an adapter: hands frames to the process holding their session. */
    private readonly forward?: (sid: string, secret: string, cid: string, frames: readonly ClientFrame[]) => Promise<Forwarded>,
    /** With an adapter: whether another process holds connection `cid` of session `sid` with this secret. */
    private readonly forwardable?: (sid: string, secret: string, cid: string) => Promise<'held' | 'gone' | 'unavailable'>,
  ) {
    this.bodies = new BodyBudget(Math.max(BODIES_MIN_BUDGET, 4 * postBodyLimit(opts.maxMessageBytes)), BODIES_PER_CONNECTION);
  }

  async handle(req: IncomingMessage, res: ServerResponse, params: RequestParams): Promise<void> {
    const cors = this.opts.cors;
    const auth = await authenticate(this.opts, req);
    if (res.destroyed) return;
    if (!auth.ok) return sendError(req, res, 401, 'unauthorized', 'credential missing or refused', cors);

    // The session and its connection are checked before the body is read: a request that names none costs no parse.
    const sid = params.url.searchParams.get(QUERY.session) ?? '';
    const secret = params.secret ?? '';
    const cid = params.url.searchParams.get(QUERY.connection) ?? '';
    // Refused unread, the body is not drained either: the connection closes.
    const gone = (unread = false): void => sendFrames(req, res, 410, goneBody, cors, unread ? { Connection: 'close' } : {});
    const local = this.sessions.store.get(sid);
    const isLocal = local !== undefined && !local.ended && local.connection?.cid === cid && local.knowsSecret(secret);
    if (!isLocal) {
      const known = this.forwardable && cid !== '' ? await this.forwardable(sid, secret, cid) : 'gone';
      if (known === 'unavailable') return sendUnavailable(req, res, cors, STORE_UNREACHABLE);
      if (known === 'gone') return gone(true);
    }

    // Counted per connection: bodies a proxy left stalled on a connection the client gave up must not block the one
    // that resumed the session (the client would loop on 429 with its emits unsent).
    const slot = `${sid} ${cid}`;
    if (!this.bodies.open(slot)) return sendBusy(req, res, cors, 'too many POSTs in flight for this connection');
    // The client sends at most this much per POST (src/transports/upstream.ts), however many frames it holds.
    const body = await readBody(req, postBodyLimit(this.opts.maxMessageBytes), (n) => this.bodies.take(n));
    this.bodies.close(slot, body.held);
    if (!body.ok) {
      if (body.why === 'too_large') sendFrames(req, res, 413, tooLarge(this.opts.maxMessageBytes), cors, { Connection: 'close' });
      if (body.why === 'over_budget') sendBusy(req, res, cors, 'the server is reading too many request bodies; try again');
      return;
    }
    const decoded = decodeClientBatch(body.text);
    if (!decoded.ok) return sendError(req, res, 400, 'bad_request', decoded.reason, cors);
    // The body's bytes bound each frame's: only a body that may hold a message over the limit is measured frame by frame.
    const bodyBytes = Buffer.byteLength(body.text);
    for (const f of decoded.frame) {
      if (inboundOverLimit(f, bodyBytes, this.opts.maxMessageBytes) !== null) {
        return sendFrames(req, res, 413, tooLarge(this.opts.maxMessageBytes), cors);
      }
    }

    let outcome: Forwarded;
    if (isLocal) {
      const n = await this.sessions.upstream(sid, secret, cid, decoded.frame);
      outcome = n === null ? 'gone' : { ack: n };
    } else if (this.forward) {
      // Held by another process (round-robin, no sticky sessions): it takes the frames, the session stays there.
      outcome = await this.forward(sid, secret, cid, decoded.frame);
    } else outcome = 'gone';
    if (outcome === 'gone') return gone();
    if (outcome === 'unavailable') return sendUnavailable(req, res, cors, STORE_UNREACHABLE);
    sendFrames(req, res, 200, encodeBatch([{ t: 'ack', n: outcome.ack }]), cors);
  }
}

const goneBody = encodeBatch([errorFrame('bad_request', 'session or connection is no longer active', 410)]);
const tooLarge = (max: number): string => encodeBatch([errorFrame('frame_too_large', `a message exceeds ${max} bytes`, 413)]);
