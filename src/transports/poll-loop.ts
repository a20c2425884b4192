import { BaseTransport } from './base-transport';
import type { PollRequests } from './poll-request';

/**
 * A transport that polls down, one poll at a time, and POSTs up: opening starts the first poll, closing aborts the
 * outstanding one and the upstream queue. Both modes' polling transports are one.
 */
export abstract class PollLoop extends BaseTransport {
  protected abstract readonly polls: PollRequests;
  protected abstract readonly upstream: { close(): void };

  /** One poll: its answer handed on, and the next one scheduled. */
  protected abstract pollOnce(): Promise<void>;

  protected start(): void {
    void this.pollOnce();
  }

  protected release(): void {
    this.polls.abort();
    this.upstream.close();
  }
}
