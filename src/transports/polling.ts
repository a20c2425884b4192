import { decodeServerBatch } from '../protocol/codec';
import type { ClientFrame, WelcomeFrame } from '../protocol/frames';
import { resolveFetch, type FetchFn, type TransportEnvironment } from './environment';
import { buildUrl, httpFailure, ScheduledCallbacks, type Transport, type TransportConnectParams, type TransportFailure } from './transport';
import { describe, Upstream } from './upstream';

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

/**
 * Long-polling down (`GET E/poll`), `POST E/send` up.
 *
 * One poll is outstanding at a time: the next is scheduled (delay 0, through the owner's scheduler) only after the
 * previous one settled and its frames were handed on. `ack` frames given to `send()` are not POSTed; the highest
 * acknowledged id travels as `last` on the next poll.
 */
export class LongPollingTransport implements Transport {
  readonly name = 'polling' as const;
  private readonly fetch: FetchFn;
  private readonly upstream: Upstream;
  private readonly timers: ScheduledCallbacks;
  private session: Pick<WelcomeFrame, 'sid' | 'secret' | 'cid'> | undefined;
  private last: number;
  private poll: AbortController | undefined;
  private closed = false;
  private started = false;

  constructor(
    private readonly params: TransportConnectParams,
    env: TransportEnvironment = {},
  ) {
    this.timers = new ScheduledCallbacks(params.schedule);
    this.fetch = resolveFetch(env);
    const last = Number(params.query.last ?? 0);
    this.last = Number.isSafeInteger(last) && last >= 0 ? last : 0;
    this.upstream = new Upstream({
      url: params.url,
      query: params.query,
      headers: params.headers,
      withCredentials: params.withCredentials,
      fetch: this.fetch,
      deliver: (frame) => {
        if (!this.closed) this.params.handlers.onFrame(frame);
      },
      fail: (failure) => this.fail(failure),
    });
  }

  connect(): void {
    if (this.closed || this.started) return;
    this.started = true;
    void this.pollOnce();
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.cancelAll();
    this.poll?.abort();
    this.poll = undefined;
    this.upstream.close();
  }

  /** The handshake poll carries the owner's query as given; later ones name the connection and acknowledge. */
  private pollUrl(): string {
    const { query } = this.params;
    if (this.session === undefined) return buildUrl(this.params.url, '/poll', query);
    const q: Record<string, string> = {
      v: query.v ?? '1',
      sid: this.session.sid,
      secret: this.session.secret,
      cid: this.session.cid,
      last: String(this.last),
    };
    if (query.access_token !== undefined) q.access_token = query.access_token;
    return buildUrl(this.params.url, '/poll', q);
  }

  private async pollOnce(): Promise<void> {
    const controller = new AbortController();
    this.poll = controller;
    const handshake = this.session === undefined;
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(this.pollUrl(), {
        method: 'GET',
        headers: { Accept: 'application/json', ...this.params.headers },
        credentials: this.params.withCredentials ? 'include' : 'same-origin',
        signal: controller.signal,
      });
      if (this.closed) return;
      if (!res.ok) {
        const body = await res.text(); // an error body is small; it may name the protocol error
        if (!this.closed) this.fail(httpFailure('poll', res, body));
        return;
      }
      const type = res.headers.get('Content-Type') ?? '';
      if (!JSON_TYPE.test(type)) {
        controller.abort();
        this.fail({ kind: 'content_type', status: res.status, message: `poll answered with Content-Type ${type || '-'}` });
        return;
      }
      text = await res.text();
    } catch (err) {
      if (this.closed || controller.signal.aborted) return;
      this.fail({ kind: 'network', message: `poll failed: ${describe(err)}` });
      return;
    }
    if (this.closed) return;
    this.poll = undefined;
    const decoded = decodeServerBatch(text);
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

  private fail(failure: TransportFailure): void {
    if (this.closed) return;
    this.close();
    this.params.handlers.onFailure(failure);
  }
}
