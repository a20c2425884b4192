import type { FetchFn } from './environment';
import { describe, httpFailure } from './failures';
import { credentialsMode, isJsonType, type RequestDefaults } from './http';
import type { TransportFailure } from './transport';

/** Where the polls of protocol and plain mode differ. */
export interface PollOptions {
  /** Plain endpoints may be answered from a cache; they ask for `no-store`. */
  cache?: RequestCache;
  /** Our server names the protocol error in an error answer's small JSON body; a plain server's body is not wanted. */
  readErrorBody: boolean;
  /** Plain endpoints answer 204 when nothing is new: an empty answer, needing no media type. */
  emptyOn204: boolean;
}

export type PollAnswer = { text: string } | { failure: TransportFailure };

/** The poll GETs of one polling transport, one at a time; `abort()` drops the one in flight. */
export class PollRequests {
  private inFlight: AbortController | undefined;

  constructor(
    private readonly fetch: FetchFn,
    private readonly defaults: RequestDefaults,
    private readonly opts: PollOptions,
  ) {}

  /**
   * GETs one poll answer as text, or the failure it is: the request failed (`network`), an error status (`http`),
   * or not JSON (`content_type`). `undefined` once aborted: the transport closed, nothing to report. `url` is built
   * inside the request's `try`, so a malformed endpoint fails the poll like a refused connection. `headers` replace
   * the owner's.
   */
  async get(url: () => string, headers = this.defaults.headers): Promise<PollAnswer | undefined> {
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      return await this.request(url, headers, controller);
    } finally {
      if (this.inFlight === controller) this.inFlight = undefined;
    }
  }

  abort(): void {
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private async request(url: () => string, headers: Readonly<Record<string, string>>, controller: AbortController): Promise<PollAnswer | undefined> {
    const { opts, defaults } = this;
    try {
      const res = await this.fetch(url(), {
        method: 'GET',
        headers: { Accept: 'application/json', ...headers },
        credentials: credentialsMode(defaults.withCredentials),
        cache: opts.cache,
        signal: controller.signal,
      });
      if (controller.signal.aborted) return undefined;
      if (!res.ok) {
        if (!opts.readErrorBody) {
          controller.abort(); // the body is not wanted
          return { failure: httpFailure('poll', res) };
        }
        const body = await res.text(); // an error body is small; it may name the protocol error
        return controller.signal.aborted ? undefined : { failure: httpFailure('poll', res, body) };
      }
      if (res.status === 204 && opts.emptyOn204) return { text: '' };
      const type = res.headers.get('Content-Type') ?? '';
      if (!isJsonType(type)) {
        controller.abort(); // a proxy's page, say: not worth reading
        return { failure: { kind: 'content_type', status: res.status, message: `poll answered with Content-Type ${type || '-'}` } };
      }
      return { text: await res.text() };
    } catch (err) {
      if (controller.signal.aborted) return undefined;
      return { failure: { kind: 'network', message: `poll failed: ${describe(err)}` } };
    }
  }
}
