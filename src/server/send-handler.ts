import type { IncomingMessage, ServerResponse } from 'node:http';
import { QUERY } from '../protocol/frames';
import { decodeClientBatch, encodeBatch, utf8Length } from '../protocol/codec';
import { authenticate, errorFrame, requestUrl, readBody, sendError, sendFrames, sendUnavailable, STORE_UNREACHABLE } from './http-util';
import type { ResolvedOptions } from './options';
import type { SessionManager } from './session-manager';

/** How many maxFrame-sized frames one POST body may carry. */
const BODY_FRAMES = 4;

/** `POST E/send`: upstream frames for SSE and long-polling connections; acknowledged in the response. */
export class SendHandler {
  constructor(
    private readonly opts: ResolvedOptions,
    private readonly sessions: SessionManager,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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

    const url = requestUrl(req);
    const session = this.sessions.store.get(url.searchParams.get(QUERY.session) ?? '');
    const cid = url.searchParams.get(QUERY.connection);
    if (
      !session ||
      session.ended ||
      !session.checkSecret(url.searchParams.get(QUERY.secret) ?? '') ||
      !cid ||
      session.connection?.cid !== cid
    ) {
      return sendError(req, res, 410, 'bad_request', 'session or connection is no longer active', cors);
    }
    for (const f of decoded.frame) session.receive(f);
    const n = session.accepted;
    // The client forgets what is acknowledged: with an adapter, not before the acceptance is durable.
    if (!(await session.durable())) return sendUnavailable(req, res, cors, STORE_UNREACHABLE);
    sendFrames(req, res, 200, encodeBatch([{ t: 'ack', n }]), cors);
  }
}

const tooLarge = (max: number): string => encodeBatch([errorFrame('frame_too_large', `a frame exceeds ${max} bytes`, 413)]);
