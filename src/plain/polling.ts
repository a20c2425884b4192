import type { ClientFrame } from '../protocol/frames';
import { resolveFetch, type FetchFn, type TransportEnvironment } from '../transports/environment';
import { httpFailure, ScheduledCallbacks, type Transport, type TransportConnectParams, type TransportFailure } from '../transports/transport';
import { deliverMessage, describe, emitsOf, plainWelcome, toMessage, withQuery } from './common';
import type { PlainState } from './plain';
import { PlainUpstream } from './upstream';

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

/**
 * Polls a JSON endpoint: `GET endpoint[?cursor=…]` answering an array of messages, one message, or
 * `{ "messages": [...], "cursor": "…" }` (204: nothing new). A message `{ event: string, data }` is that event; any
 * other value is a `message`. The next poll is scheduled `pollIntervalMs` after the previous one settled, so polls
 * never overlap. Emits are POSTed to the `send` endpoint.
 */
export class PlainPollingTransport implements Transport {
  readonly name = 'polling' as const;
  private readonly fetch: FetchFn;
  private readonly upstream: PlainUpstream;
  private readonly timers: ScheduledCallbacks;
  private poll: AbortController | undefined;
  private opened = false;
  private closed = false;
  private started = false;

  constructor(
    private readonly params: TransportConnectParams,
    env: TransportEnvironment,
    private readonly state: PlainState,
    sendUrl: string | undefined,
    private readonly intervalMs: number,
  ) {
    this.timers = new ScheduledCallbacks(params.schedule);
    this.fetch = resolveFetch(env);
    this.upstream = new PlainUpstream(params, state, sendUrl, this.fetch, (failure) => this.fail(failure));
  }

  connect(): void {
    if (this.closed || this.started) return;
    this.started = true;
    void this.pollOnce();
  }

  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    const emits = emitsOf(frames);
    if (emits.length > 0) this.upstream.send(emits);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.cancelAll();
    this.poll?.abort();
    this.poll = undefined;
    this.upstream.close();
  }

  private async pollOnce(): Promise<void> {
    const controller = new AbortController();
    this.poll = controller;
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(withQuery(this.params.url, this.params.query, { cursor: this.state.cursor }), {
        method: 'GET',
        headers: { Accept: 'application/json', ...this.params.headers },
        credentials: this.params.withCredentials ? 'include' : 'same-origin',
        cache: 'no-store',
        signal: controller.signal,
      });
      if (this.closed) return;
      if (!res.ok) {
        controller.abort(); // the body is not wanted
        this.fail(httpFailure('poll', res));
        return;
      }
      if (res.status === 204) {
        text = '';
      } else {
        const type = res.headers.get('Content-Type') ?? '';
        if (!JSON_TYPE.test(type)) {
          controller.abort();
          this.fail({ kind: 'content_type', message: `poll answered with Content-Type ${type || '-'}` });
          return;
        }
        text = await res.text();
      }
    } catch (err) {
      if (this.closed || controller.signal.aborted) return;
      this.fail({ kind: 'network', message: `poll failed: ${describe(err)}` });
      return;
    }
    if (this.closed) return;
    this.poll = undefined;
    let answer: PollAnswer;
    try {
      answer = text === '' ? { messages: [] } : readAnswer(JSON.parse(text) as unknown);
    } catch (err) {
      this.fail({ kind: 'protocol', message: `poll answer is not JSON: ${describe(err)}` });
      return;
    }
    if (!this.opened) {
      this.opened = true;
      this.params.handlers.onFrame(plainWelcome(this.state));
      if (this.closed) return;
      this.upstream.start();
    }
    for (const message of answer.messages) {
      if (this.closed) return;
      const { event, data } = toMessage(message);
      deliverMessage(this.params.handlers, this.state, event, data);
    }
    if (this.closed) return;
    // Only once every message of the answer was handed on: a poll cut short asks again from the old cursor.
    if (answer.cursor !== undefined) this.state.cursor = answer.cursor;
    this.timers.after(() => {
      if (!this.closed) void this.pollOnce();
    }, this.intervalMs);
  }

  private fail(failure: TransportFailure): void {
    if (this.closed) return;
    this.close();
    this.params.handlers.onFailure(failure);
  }
}

interface PollAnswer {
  messages: readonly unknown[];
  cursor?: string;
}

/** An array of messages, `{ messages: [...], cursor }`, or one message. */
function readAnswer(value: unknown): PollAnswer {
  if (Array.isArray(value)) return { messages: value };
  if (typeof value === 'object' && value !== null && Array.isArray((value as { messages?: unknown }).messages)) {
    const { messages, cursor } = value as { messages: unknown[]; cursor?: unknown };
    const answer: PollAnswer = { messages };
    if (typeof cursor === 'string' || typeof cursor === 'number') answer.cursor = String(cursor);
    return answer;
  }
  return { messages: [value] };
}
