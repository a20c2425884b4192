import type { IncomingMessage, ServerResponse } from 'node:http';
import { QUERY, type ClientFrame } from '../protocol/frames';
import type { Forwarded } from './adapter';
import { decodeClientBatch, encodeBatch, utf8Length } from '../protocol/codec';
import type { RequestParams } from './request-params';
import { authenticate, errorFrame, readBody, sendError, sendFrames, sendUnavailable, STORE_UNREACHABLE } from './http-util';
import type { ResolvedOptions } from './options';
import type { SessionManager } from './session-manager';

/** How many maxFrame-sized frames one POST body may carry. */
const BODY_FRAMES = 4;

/** `POST E/send`: upstream frames for SSE and long-polling connections; acknowledged in the response. */
export class SendHandler {
  constructor(
    private readonly opts: ResolvedOptions,
    private readonly sessions: SessionManager,
    /** With an adapter: hands frames to the process holding their session. */
    private readonly forward?: (sid: string, secret: string, cid: string, frames: readonly ClientFrame[]) => Promise<Forwarded>,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, params: RequestParams): Promise<void> {
    const cors = this.opts.cors;
    const auth = await authenticate(this.opts, req);
    if (res.destroyed) return;
    if (!auth.ok) return sendError(req, res, 401, 'unauthorized', 'credential missing or refused', cors);

    const body = await readBody(req, this.opts.maxFrameBytes * BODY_FRAMES);
    if (!body.ok) {
      if (body.tooLarge) sendFrames(req, res, 413, tooLarge(this.opts.maxFrameBytes), cors, { Connection: 'close' });
      return;
    }
    const decoded = decodeClientBatch(body.text);
    if (!decoded.ok) return sendError(req, res, 400, 'bad_request', decoded.reason, cors);
    for (const f of decoded.frame) {
      if (utf8Length(JSON.stringify(f)) > this.opts.maxFrameBytes) {
        return sendFrames(req, res, 413, tooLarge(this.opts.maxFrameBytes), cors);
      }
    }

    const sid = params.url.searchParams.get(QUERY.session) ?? '';
    const secret = params.secret ?? '';
    const cid = params.url.searchParams.get(QUERY.connection);
    const gone = (): void => sendError(req, res, 410, 'bad_request', 'session or connection is no longer active', cors);
    if (!cid) return gone();
    const local = this.sessions.store.get(sid);
    let outcome: Forwarded;
    if (local && !local.ended && local.connection?.cid === cid) {
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

const tooLarge = (max: number): string => encodeBatch([errorFrame('frame_too_large', `a frame exceeds ${max} bytes`, 413)]);
