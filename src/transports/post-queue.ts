import type { FetchFn } from './environment';
import { describe, httpFailure } from './failures';
import { credentialsMode, type RequestDefaults } from './http';
import type { TransportFailure } from './transport';

/** One POST of a batch. */
export interface PostRequest {
  url: string;
  contentType: string;
  body: string;
  /** Replace the owner's headers. */
  headers?: Readonly<Record<string, string>>;
}

/** What differs between the protocol's and plain mode's upstream: the request, and what its answer means. */
export interface PostQueueOptions<T> {
  /** Names the POST in failure messages: `${what} failed: …`, `${what} answered 503`. */
  what: string;
  /** How many of the queued items the next POST takes (at least one goes). */
  batch(queued: readonly T[]): number;
  request(batch: readonly T[]): PostRequest;
  /** Reads an answer's body (an error answer's too: it may name the error). */
  read(res: Response): Promise<string>;
  /** A 2xx answer to `batch`. It may fail the owner; the next POST goes out afterwards unless the queue was closed. */
  accepted(batch: readonly T[], body: string): void;
  /** A POST failed; the owner fails, closing the queue, and re-sends what is unacknowledged after reconnecting. */
  fail(failure: TransportFailure): void;
}

/**
 * The upstream POST queue of the HTTP transports of both modes: one POST in flight at a time, what is queued
 * meanwhile goes out next, in order, and nothing goes out before `start()`.
 */
export class PostQueue<T> {
  private readonly queue: T[] = [];
  private inFlight: AbortController | undefined;
  private started = false;
  private closed = false;

  constructor(
    private readonly fetch: FetchFn,
    private readonly defaults: RequestDefaults,
    private readonly opts: PostQueueOptions<T>,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** The connection can take POSTs now. */
  start(): void {
    this.started = true;
    this.pump();
  }

  send(items: readonly T[]): void {
    if (this.closed) return;
    this.queue.push(...items);
    this.pump();
  }

  /** Aborts the POST in flight and drops the queue. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private pump(): void {
    if (this.closed || !this.started || this.inFlight !== undefined || this.queue.length === 0) return;
    const batch = this.queue.splice(0, Math.max(1, this.opts.batch(this.queue)));
    const controller = new AbortController();
    this.inFlight = controller;
    void this.post(batch, controller);
  }

  private async post(batch: T[], controller: AbortController): Promise<void> {
    const { opts } = this;
    let res: Response;
    let text: string;
    try {
      const { url, contentType, body, headers = this.defaults.headers } = opts.request(batch);
      res = await this.fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': contentType, ...headers },
        body,
        credentials: credentialsMode(this.defaults.withCredentials),
        signal: controller.signal,
      });
      text = await opts.read(res);
    } catch (err) {
      if (this.closed || controller.signal.aborted) return;
      opts.fail({ kind: 'network', message: `${opts.what} failed: ${describe(err)}` });
      return;
    }
    if (this.closed) return;
    if (!res.ok) {
      opts.fail(httpFailure(opts.what, res, text));
      return;
    }
    opts.accepted(batch, text);
    if (this.closed) return;
    this.inFlight = undefined;
    this.pump();
  }
}
