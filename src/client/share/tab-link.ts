import type { ClientFrame, ServerFrame, TransportName } from '../../protocol/frames';
import type { Transport, TransportFailure, TransportHandlers } from '../../transports/transport';

/** What a link asks of its tab's share. */
export interface LinkOwner {
  /** The transport the leading tab is on (what this tab's client shows as its own). */
  readonly leaderTransport: TransportName;
  attach(link: TabLink): void;
  detach(link: TabLink): void;
  send(frames: readonly ClientFrame[]): void;
}

/**
 * A tab's own client connects "over" this transport: it speaks the protocol to the leading tab instead of a server
 * (the leader welcomes it, passes frames and acknowledgements on, takes its emits). The tab's client keeps its own
 * session and outbox, so delivery in order and once, and emits kept until acknowledged, work as on a real connection.
 */
export class TabLink implements Transport {
  private done = false;

  /** `owner` null: the tab left its group (its client closed) while this attempt was being prepared. */
  constructor(
    private readonly owner: LinkOwner | null,
    private readonly handlers: TransportHandlers,
  ) {}

  get name(): TransportName {
    return this.owner?.leaderTransport ?? 'websocket';
  }

  connect(): void {
    if (this.owner) return this.owner.attach(this);
    queueMicrotask(() => this.fail({ kind: 'network', message: 'this tab left its group' }));
  }

  send(frames: readonly ClientFrame[]): void {
    if (!this.done) this.owner?.send(frames);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.owner?.detach(this);
  }

  /** A frame for the tab's client. */
  deliver(frame: ServerFrame): void {
    if (!this.done) this.handlers.onFrame(frame);
  }

  /** The link is gone (the leader's connection dropped, the session changed): the client reconnects. */
  fail(failure: TransportFailure): void {
    if (this.done) return;
    this.done = true;
    this.owner?.detach(this);
    this.handlers.onFailure(failure);
  }
}
