import type { ClientFrame } from '../protocol/frames';
import { PollLoop } from '../transports/poll-loop';
import { resolveFetch, type TransportEnvironment } from '../transports/environment';
import { describe } from '../transports/failures';
import { PollRequests } from '../transports/poll-request';
import type { TransportConnectParams } from '../transports/transport';
import { buildUrl } from '../transports/url';
import { deliverMessage, plainWelcome, toMessage } from './common';
import type { PlainState } from './plain';
import { PlainUpstream } from './upstream';

/**
 * Polls a JSON endpoint: `GET endpoint[?cursor=…]` answering an array of messages, one message, or
 * `{ "messages": [...], "cursor": "…" }` (204: nothing new). A message `{ event: string, data }` is that event; any
 * other value is a `message`. The next poll is scheduled `pollIntervalMs` after the previous one settled, so polls
 * never overlap. Emits are POSTed to the `send` endpoint.
 */
export class PlainPollingTransport extends PollLoop {
  readonly name = 'polling' as const;
  protected readonly upstream: PlainUpstream;
  protected readonly polls: PollRequests;
  private opened = false;

  constructor(
    params: TransportConnectParams,
    env: TransportEnvironment,
    private readonly state: PlainState,
    sendUrl: string | undefined,
    private readonly intervalMs: number,
  ) {
    super(params);
    const fetch = resolveFetch(env);
    this.polls = new PollRequests(fetch, params, { cache: 'no-store', readErrorBody: false, emptyOn204: true });
    this.upstream = new PlainUpstream(params, state, sendUrl, fetch, (failure) => this.fail(failure));
  }

  send(frames: readonly ClientFrame[]): void {
    if (!this.closed) this.upstream.send(frames);
  }

  protected async pollOnce(): Promise<void> {
    const answer = await this.polls.get(() => buildUrl(this.params.url, { ...this.params.query, cursor: this.state.cursor }));
    if (answer === undefined || this.closed) return;
    if ('failure' in answer) return this.fail(answer.failure);
    let body: PollBody;
    try {
      body = answer.text === '' ? { messages: [] } : readBody(JSON.parse(answer.text) as unknown);
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
    for (const message of body.messages) {
      if (this.closed) return;
      const { event, data } = toMessage(message);
      deliverMessage(this.params.handlers, this.state, event, data);
    }
    if (this.closed) return;
    // Only once every message of the answer was handed on: a poll cut short asks again from the old cursor.
    if (body.cursor !== undefined) this.state.cursor = body.cursor;
    this.timers.after(() => {
      if (!this.closed) void this.pollOnce();
    }, this.intervalMs);
  }
}

interface PollBody {
  messages: readonly unknown[];
  cursor?: string;
}

/** An array of messages, `{ messages: [...], cursor }`, or one message. */
function readBody(value: unknown): PollBody {
  if (Array.isArray(value)) return { messages: value };
  if (typeof value === 'object' && value !== null && Array.isArray((value as { messages?: unknown }).messages)) {
    const { messages, cursor } = value as { messages: unknown[]; cursor?: unknown };
    const answer: PollBody = { messages };
    if (typeof cursor === 'string' || typeof cursor === 'number') answer.cursor = String(cursor);
    return answer;
  }
  return { messages: [value] };
}
