import { decodeServerBatch } from '../protocol/codec';
import type { ClientFrame, WelcomeFrame } from '../protocol/frames';
import { PollLoop } from './poll-loop';
import { resolveFetch, type TransportEnvironment } from './environment';
import { PollRequests } from './poll-request';
import type { TransportConnectParams } from './transport';
import { connectionHeaders, connectionQuery, Upstream } from './upstream';
import { withPrivateHeaders } from './http';
import { HEADERS } from '../protocol/carriers';
import { buildUrl } from './url';

/**
 * Long-polling down (`GET E/poll`), `POST E/send` up.
 *
 * One poll is outstanding at a time: the next is scheduled (delay 0, through the owner's scheduler) only after the
 * previous one settled and its frames were handed on. `ack` frames given to `send()` are not POSTed; the highest
 * acknowledged id travels as `last` on the next poll.
 */
export class LongPollingTransport extends PollLoop {
  readonly name = 'polling' as const;
  protected readonly upstream: Upstream;
  private session: Pick<WelcomeFrame, 'sid' | 'secret' | 'cid'> | undefined;
  private last: number;
  protected readonly polls: PollRequests;

  constructor(params: TransportConnectParams, env: TransportEnvironment = {}) {
    super(params);
    const fetch = resolveFetch(env);
    this.polls = new PollRequests(fetch, params, { readErrorBody: true, emptyOn204: false });
    const last = Number(params.query.last ?? 0);
    this.last = Number.isSafeInteger(last) && last >= 0 ? last : 0;
    this.upstream = new Upstream(params, fetch, {
      deliver: (frame) => {
        if (!this.closed) this.params.handlers.onFrame(frame);
      },
      fail: (failure) => this.fail(failure),
    });
  }

  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    const rest: ClientFrame[] = [];
    for (const frame of frames) {
      if (frame.t === 'ack') this.last = Math.max(this.last, frame.id);
      else rest.push(frame);
    }
    if (rest.length > 0) this.upstream.send(rest);
  }

  /**
   * The handshake poll carries the owner's parameters as given; later ones name the connection and acknowledge, in a
   * header so that the URL stays the same (one cross-origin preflight per connection, not one per poll).
   */
  protected async pollOnce(): Promise<void> {
    const { params, session } = this;
    const handshake = session === undefined;
    const answer = handshake
      ? await this.polls.get(() => buildUrl(params.url, params.query, { path: '/poll' }), withPrivateHeaders(params.headers, params.hidden))
      : await this.polls.get(() => buildUrl(params.url, connectionQuery(params.query, session), { path: '/poll' }), {
          ...connectionHeaders(params, session),
          [HEADERS.last]: String(this.last),
        });
    if (answer === undefined || this.closed) return;
    if ('failure' in answer) return this.fail(answer.failure);
    const decoded = decodeServerBatch(answer.text);
    if (!decoded.ok) {
      this.fail({ kind: 'protocol', message: `poll answer: ${decoded.reason}` });
      return;
    }
    if (handshake && decoded.frame[0]?.t !== 'welcome') {
      this.fail({ kind: 'protocol', message: 'handshake poll did not start with a welcome' });
      return;
    }
    for (const frame of decoded.frame) {
      if (this.closed) return;
      // A refused resume starts a new session numbered from 1: the old session's `last` must not acknowledge it.
      if (frame.t === 'welcome' && !frame.resumed) this.last = 0;
      this.params.handlers.onFrame(frame);
      if (frame.t === 'welcome' && !this.closed) {
        this.session = { sid: frame.sid, secret: frame.secret, cid: frame.cid };
        this.upstream.setSession(frame);
      }
    }
    if (this.closed) return;
    this.timers.after(() => {
      if (!this.closed) void this.pollOnce();
    });
  }
}
