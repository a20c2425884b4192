import type { ClientFrame, TransportName } from '../protocol/frames';
import { ScheduledCallbacks, type Transport, type TransportConnectParams, type TransportFailure } from './transport';

/**
 * The lifecycle every transport of both modes shares: `connect()` opens once, `close()` releases once, and `fail()`
 * closes before it reports, so a transport reports at most one failure and is silent after `close()`.
 */
export abstract class BaseTransport implements Transport {
  abstract readonly name: TransportName;
  protected closed = false;
  private started = false;
  /** Every timer of the transport; `close()` cancels them all. */
  protected readonly timers: ScheduledCallbacks;

  constructor(protected readonly params: TransportConnectParams) {
    this.timers = new ScheduledCallbacks(params.schedule);
  }

  connect(): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.start();
  }

  abstract send(frames: readonly ClientFrame[]): void;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.cancelAll();
    this.release();
  }

  /** Opens the connection: called by the first `connect()`, unless `close()` came first. */
  protected abstract start(): void;

  /** Drops every listener, request and socket (the timers are cancelled already): called by the first `close()`. */
  protected abstract release(): void;

  protected fail(failure: TransportFailure): void {
    if (this.closed) return;
    this.close();
    this.params.handlers.onFailure(failure);
  }
}
