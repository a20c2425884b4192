import type { MessageFrame, OutboundFrame, ReplyFrame, TransportName, WelcomeFrame } from '../../protocol/frames';
import type { TransportFailure } from '../../transports/transport';
import { TypedEmitter } from '../emitter';
import type { RealtimeError } from '../errors';
import type { LifecycleEvents } from '../lifecycle';
import { PROTOCOL_MODE } from '../mode/protocol-mode';
import type { ResolvedOptions } from '../options';
import type { OutboxEntry } from '../outbox';
import type { LostSession } from '../session';
import { createSessionCore, type SessionCore } from '../session-core';
import type { LeaderSeed } from './replica';

/** What the leading tab's connection reports to the leader. */
export interface LeaderConnectionHost {
  /** The connection opened (again) on `transport`; `welcome` names the session, `lost` what a refused resume lost. */
  opened(transport: TransportName, welcome: WelcomeFrame, lost: LostSession | null): void;
  /** The next server frame of the session, once and in order. */
  delivered(frame: MessageFrame | ReplyFrame): void;
  /** These entries got their numbers in the session (`seq`) and are about to go out for the first time. */
  numbered(entries: readonly { entry: OutboxEntry; seq: number }[]): void;
  /** The server accepted every client frame up to `n`. */
  acked(n: number): void;
  /** The connection dropped; the client reconnects by itself. */
  dropped(failure: TransportFailure): void;
  /** The session moved to a better transport (the upgrade probe), whose probe `welcome` names the session. */
  moved(transport: TransportName, welcome: WelcomeFrame): void;
  /** Retrying cannot help (refused origin or credential, a 4xx): the connection closed for good. */
  stopped(error: RealtimeError): void;
}

/**
 * The one real connection of a group of sharing tabs, in the leading tab: the session core (session-core.ts) the
 * client uses, plus what only a leader does: it numbers frames on from the session's numbering before it, holds each
 * until the tabs have heard of its number, and tells the leader what was numbered. It starts from a seed: the session
 * another tab ran and the frames it had not seen acknowledged.
 */
export class LeaderConnection {
  readonly life = new TypedEmitter<LifecycleEvents>();
  /**
   * The connection itself: its state, transport and session; `shutdown` stops it without ending the session (the
   * server keeps it for its grace period, and the next leader resumes it).
   */
  readonly core: SessionCore;
  /** Entries numbered already (a resend after a reconnect is not news to the tabs). */
  private readonly sentOnce = new WeakSet<OutboxEntry>();
  /** What the welcome being handled lost (a refused resume), for `opened`. */
  private lostSession: LostSession | null = null;
  /**
   * The session's client frame numbering before this leader: the outbox numbers from 1, the server sees that plus
   * `seqBase` (0 again once the server starts a new session).
   */
  private seqBase: number;
  /** Nothing is sent while held (the leader found numbers it does not know the frames of, and starts over). */
  private held = false;
  /**
   * The highest number the tabs are sure to hear of (see `noted`). A numbered frame waits in `unheard` until then: a
   * leader that dies between sending a frame and its word leaving the tab would leave the next leader guessing.
   */
  private notedUpTo: number;
  private unheard: OutboxEntry[] = [];

  /** `known`: the highest number every tab knew of before this leader (the seed's frames are among them). */
  constructor(url: string, opts: ResolvedOptions, seed: LeaderSeed, known: number, host: LeaderConnectionHost) {
    this.notedUpTo = known;
    this.seqBase = seed.seqBase;
    const self = this; // for the getter: the core shifts the server's acknowledgements by the numbering before this leader
    this.core = createSessionCore(
      { endpoint: url, options: opts, life: this.life, mode: (settings) => PROTOCOL_MODE.create(settings), from: seed.session },
      {
        get seqBase() {
          return self.seqBase;
        },
        welcomed: (_welcome, lost) => this.welcomed(lost),
        opened: (transport, welcome) => {
          host.opened(transport, welcome, this.lostSession);
          this.lostSession = null;
        },
        delivered: (frame) => host.delivered(frame),
        acked: (n) => host.acked(n),
        outgoing: (all) => this.outgoing(all, host),
        dropped: (failure) => host.dropped(failure),
        moved: (transport, welcome) => host.moved(transport, welcome),
        stopped: (error) => {
          this.core.shutdown({ reason: error.message });
          host.stopped(error);
        },
      },
    );
  }

  /** Queues a tab's emit or request for the connection; it goes out at once when the connection is open. */
  add(frame: OutboundFrame): OutboxEntry {
    return this.core.outbox.add(frame.t, frame.e, frame.d);
  }

  /** Sends what the outbox holds that was not sent yet. */
  send(): void {
    this.core.flush(false);
  }

  /** Sends nothing more (the leader is about to start over from a fuller replica). */
  hold(): void {
    this.held = true;
  }

  /** The word of every number up to `n` has left this tab (it came back on its own channel): those frames may go. */
  noted(n: number): void {
    if (n <= this.notedUpTo) return;
    this.notedUpTo = n;
    if (this.held) return;
    const ready = this.unheard.filter((e) => this.number(e) <= n && this.core.outbox.has(e));
    if (ready.length > 0 && !this.core.send(ready.map((entry) => this.numbered(entry)))) return;
    this.unheard = this.unheard.filter((e) => this.number(e) > n);
  }

  /** An entry's number in the session. */
  private number(entry: OutboxEntry): number {
    return entry.frame.seq + this.seqBase;
  }

  private numbered(entry: OutboxEntry): OutboundFrame {
    return { ...entry.frame, seq: this.number(entry) };
  }

  /** What goes out now: in number order, up to the first whose word has not come back yet (the rest wait, `noted`). */
  private outgoing(all: boolean, host: LeaderConnectionHost): OutboundFrame[] {
    if (this.held) return [];
    const { frames } = this.core.outbox.take(this.core.scheduler.now(), all);
    // Told before the frames leave: a tab that leads next must know which numbers went out with what.
    const fresh = all ? frames.filter((e) => !this.sentOnce.has(e)) : frames;
    for (const e of fresh) this.sentOnce.add(e);
    if (fresh.length > 0) host.numbered(fresh.map((entry) => ({ entry, seq: this.number(entry) })));
    const cut = frames.findIndex((e) => this.number(e) > this.notedUpTo);
    const ready = cut < 0 ? frames : frames.slice(0, cut);
    const waiting = cut < 0 ? [] : frames.slice(cut);
    this.unheard = all ? waiting : this.unheard.concat(waiting);
    return ready.map((entry) => this.numbered(entry));
  }

  /** A new session (a refused resume): the outbox numbers afresh, from 1 in the server's numbering too. */
  private welcomed(lost: LostSession | null): void {
    this.lostSession = lost;
    if (!lost) return;
    this.core.outbox.renumber();
    this.seqBase = 0;
    this.notedUpTo = 0;
    this.unheard = [];
  }
}
