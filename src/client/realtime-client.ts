import type { TransportName } from '../protocol/frames';
import { MAX_FRAME_DEPTH, nestedDeeperThan, utf8Length } from '../protocol/codec';
import { encodePayload } from './encode-payload';
import { TypedEmitter, type EventMap } from './emitter';
import { RealtimeError } from './errors';
import { invalid } from './option-checks';
import type { LifecycleEvents, ClientState, Subscribable } from './lifecycle';
import { MODES } from './mode/modes';
import { resolveOptions, type ClientOptions } from './options';
import type { OutboxEntry } from './outbox';
import type { PersistedSession } from './persist-session';
import type { PersistStore } from './persistence';
import { createPendingRequests, type PendingRequests } from './requests';
import { createSessionCore, type SessionCore } from './session-core';
import type { ShareMode } from './share/share-mode';
import { LifecycleEmitter } from './unheard-errors';
import { normaliseUrl } from './url';

export interface EmitOptions {
  /** Drop the emit if it could not be sent within this many ms (an `expired` error is reported). Default: no limit. */
  ttlMs?: number;
}

export interface RequestOptions {
  /** Reject with code `timeout` when no reply came within this many ms. Default `requestTimeoutMs`. */
  timeout?: number;
}

/**
 * One realtime connection that keeps working: WebSocket, then SSE, then long-polling, with every server message
 * delivered once and in order, and every emit delivered once, across reconnects and transport switches. This class is
 * the public API on top of the session core (session-core.ts: connection, ordering, outbox, acknowledgements, state):
 * the application's events, the requests and their replies, and `persist`.
 */
export class RealtimeClient<ServerEvents extends object = EventMap, ClientEvents extends object = EventMap>
  implements Subscribable<ServerEvents>
{
  /** Lifecycle events (state, transport, reconnecting, resync, error, close). */
  readonly lifecycle: Subscribable<LifecycleEvents>;

  private readonly core: SessionCore;
  private readonly app: TypedEmitter<ServerEvents>;
  private readonly life: TypedEmitter<LifecycleEvents>;
  private readonly requests: PendingRequests;
  private readonly requestTimeoutMs: number;
  /** With `persist`: the kept session taken back before the first handshake, then kept written (a lazy chunk). */
  private persisting: Promise<void> | null = null;
  private persisted: PersistedSession | null = null;

  /** `share`: the tab-sharing mode, which only the client of `realtime-fallback/share` passes (src/share.ts). */
  constructor(url: string, options: ClientOptions = {}, share?: ShareMode) {
    const given = resolveOptions(options);
    // With `share`, the connection is the leading tab's (src/client/share, in its own entry so others do not pay);
    // this tab's own client talks to it with settings of its own.
    if (given.share && !share) throw invalid('option share needs the RealtimeClient of realtime-fallback/share');
    const opts = given.share ? share!.linkOptions(given) : given;
    const endpoint = normaliseUrl(url);
    const onListenerError = (error: unknown, event: string): void => opts.logger('error', `listener for "${event}" threw`, { error });
    const app = new TypedEmitter<ServerEvents>(onListenerError);
    const life = new LifecycleEmitter(onListenerError, options.logger);
    const self = this; // for the owner's methods, which keep their own `this`
    this.app = app;
    this.life = life;
    this.lifecycle = life;
    this.requestTimeoutMs = opts.requestTimeoutMs;
    const storageFailed = (error: unknown): void =>
      life.emit('error', new RealtimeError('storage_failed', 'persist failed; going on in memory', { cause: error }));
    const { persist } = opts;
    /** With `persist`: takes back what an earlier page kept for a user (once, before the first handshake). */
    const restore = (user: string): Promise<void> =>
      import('./persist-session')
        .then((m) => {
          const store = persist as true | PersistStore;
          return m.persistSession({ store, endpoint, storage: opts.storage, resume: opts.resume, session: core.session, outbox: core.outbox, failed: storageFailed }, user);
        })
        .then((p) => void (this.persisted = p), storageFailed);
    const core = createSessionCore(
      {
        endpoint,
        options: opts,
        life,
        mode: (settings) => (given.share ? share!.create(settings, given, life) : MODES[opts.protocol].create(settings)),
        changed: () => this.persisted?.changed(),
      },
      {
        /** Takes the session from a welcome; a refused resume becomes a `resync` event, never a silent gap. */
        welcomed(welcome, lost) {
          if (lost) {
            const resent = core.outbox.renumber(lost.accepted); // first: a request the old session ran fails, not re-runs
            requests.sessionLost();
            life.emit('resync', { reason: lost.reason, previousSessionId: lost.previousSessionId, sessionId: welcome.sid, resent });
          }
          // After a reload with `resume: 'skip'`: what the server sent while the page was away counts as seen.
          const kept = self.persisted;
          if (kept?.skip && welcome.resumed && welcome.head !== undefined) core.session.skipTo(welcome.head);
          if (kept) kept.skip = false;
        },
        delivered(frame) {
          if (frame.t === 'msg') app.emit(frame.e as keyof ServerEvents, frame.d as ServerEvents[keyof ServerEvents]);
          else requests.answer(frame);
        },
        /** Everything unacknowledged right after a (re)open, else only new frames; expired ones are said. */
        outgoing(all) {
          const { frames, expired } = core.outbox.take(core.scheduler.now(), all);
          for (const entry of expired) {
            const error = new RealtimeError('expired', `"${entry.frame.e}" expired before it could be sent`);
            if (!requests.expired(entry, error)) life.emit('error', error);
          }
          requests.sent(frames);
          return frames.map((entry) => entry.frame);
        },
        stopped: (error) => core.shutdown({ reason: error.message, error }),
        closing: (detail) => requests.rejectAll(detail.error ?? new RealtimeError('closed', 'the client was closed')),
        prepare: persist ? (creds) => (this.persisting ??= restore(creds.user ?? '')) : undefined,
      },
    );
    const requests = createPendingRequests(core.scheduler, core.outbox);
    this.core = core;
    this.requests = requests;
    // On the next microtask, so that listeners added right after construction hear the first `state` change.
    if (opts.autoConnect) queueMicrotask(() => this.core.state === 'idle' && this.connect());
  }

  get state(): ClientState {
    return this.core.state;
  }

  get transport(): TransportName | null {
    return this.core.transport;
  }

  /** The server's session id, once a connection has opened. Stable across reconnects unless a resync happened. */
  get sessionId(): string | null {
    return this.core.session.id;
  }

  /** Emits and requests accepted and not yet acknowledged by the server. */
  get queued(): { messages: number; bytes: number } {
    return { messages: this.core.outbox.size, bytes: this.core.outbox.bytes };
  }

  /** Timers still scheduled; zero after `close()`. For tests and diagnostics. */
  get pendingTimers(): number {
    return this.core.pendingTimers;
  }

  on<K extends keyof ServerEvents>(event: K, listener: (payload: ServerEvents[K]) => void): () => void {
    return this.app.on(event, listener);
  }

  once<K extends keyof ServerEvents>(event: K, listener: (payload: ServerEvents[K]) => void): () => void {
    return this.app.once(event, listener);
  }

  off<K extends keyof ServerEvents>(event: K, listener: (payload: ServerEvents[K]) => void): void {
    this.app.off(event, listener);
  }

  /**
   * Sends an event to the server. Queued while not open and delivered exactly once when a transport opens.
   * Throws `RealtimeError` (`outbox_full`, `payload_too_large`, `invalid_argument`, `closed`) instead of dropping it.
   */
  emit<K extends keyof ClientEvents & string>(event: K, data: ClientEvents[K], options: EmitOptions = {}): void {
    this.accept('emit', event, data, options.ttlMs);
    this.core.flush(false);
  }

  /** Sends a request; resolves with the server's reply, or rejects with a `RealtimeError` (`timeout`, `server_error`, …). */
  request<R = unknown>(event: string, data?: unknown, options: RequestOptions = {}): Promise<R> {
    if (!this.core.mode.requests) {
      return Promise.reject(new RealtimeError('invalid_argument', 'request() needs a server that speaks the realtime-fallback protocol, not plain mode'));
    }
    let entry: OutboxEntry;
    try {
      entry = this.accept('req', event, data, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const reply = this.requests.track<R>(entry, options.timeout ?? this.requestTimeoutMs);
    this.core.flush(false);
    return reply;
  }

  /** Starts connecting (again). Does nothing while already connecting or open. */
  connect(): void {
    const { state } = this.core;
    if (state === 'connecting' || state === 'open' || state === 'reconnecting') return;
    this.core.start();
  }

  /**
   * Closes the connection and releases every timer, socket and page listener. Pending requests reject with
   * `closed`; emits not yet acknowledged stay queued for a later `connect()`.
   */
  close(): void {
    this.core.shutdown({ reason: 'closed by the application' });
  }

  /**
   * Logs out: closes the client, drops the session and every emit not yet acknowledged, and deletes what `persist`
   * kept, so that nothing of it is resumed or sent later, by this page or the next.
   */
  async forget(): Promise<void> {
    this.close();
    this.core.outbox.clear();
    this.core.session.forget();
    await this.persisting;
    await this.persisted?.forget();
  }

  // ---- outbound -------------------------------------------------------------------

  private accept(kind: 'emit' | 'req', event: string, data: unknown, ttlMs: number | undefined): OutboxEntry {
    if (this.core.state === 'closed') throw new RealtimeError('closed', `cannot ${kind === 'emit' ? 'emit' : 'request'} "${event}": the client is closed`);
    if (typeof event !== 'string' || event.length === 0) throw new RealtimeError('invalid_argument', 'event name must be a non-empty string');
    if (ttlMs !== undefined && !(ttlMs >= 0)) throw new RealtimeError('invalid_argument', 'ttlMs must be a number >= 0');
    const text = encodePayload(kind, event, data);
    // The server refuses deeper frames unread: refused here, the emit is not left to be resent for ever.
    if (nestedDeeperThan(text, MAX_FRAME_DEPTH)) throw new RealtimeError('invalid_argument', `payload of "${event}" nests deeper than ${MAX_FRAME_DEPTH - 1} levels`);
    const size = utf8Length(text);
    const limit = this.core.session.maxFrame;
    if (size > limit) throw new RealtimeError('payload_too_large', `payload of "${event}" is ${size} bytes; the server accepts ${limit}`);
    return this.core.outbox.add(kind, event, data, ttlMs === undefined ? undefined : this.core.scheduler.now() + ttlMs, size);
  }
}
