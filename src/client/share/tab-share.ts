import type { ClientFrame, OutboundFrame, TransportName } from '../../protocol/frames';
import type { TransportFailure } from '../../transports/transport';
import type { TypedEmitter } from '../emitter';
import type { LifecycleEvents } from '../lifecycle';
import type { ResolvedOptions } from '../options';
import { createElection, type Election, type LockManagerLike } from './election';
import { Leader } from './leader';
import type { LinkWelcome, SharedFrame, TabMessage } from './messages';
import { SessionReplica } from './replica';
import type { LinkOwner, TabLink } from './tab-link';

export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** The platform parts sharing uses; the browser's by default, fakes in unit tests. */
export interface SharePlatform {
  channel(name: string): ChannelLike;
  locks: LockManagerLike;
  /** Whether the page is visible, and a subscription to changes (returns the unsubscriber). */
  visible(): boolean;
  onVisibility(listener: () => void): () => void;
  newId(): string;
}

export function browserPlatform(): SharePlatform {
  const doc = (globalThis as { document?: Document }).document;
  return {
    channel: (name) => new BroadcastChannel(name) as unknown as ChannelLike,
    locks: (navigator as unknown as { locks: LockManagerLike }).locks,
    visible: () => doc?.visibilityState !== 'hidden',
    onVisibility(listener) {
      doc?.addEventListener('visibilitychange', listener);
      return () => doc?.removeEventListener('visibilitychange', listener);
    },
    newId: () => Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) => b.toString(36).padStart(2, '0')).join(''),
  };
}

/**
 * One client's part in a group of sharing tabs: it stands in line for the lock (and leads when it holds it), keeps
 * the replica of the shared session, and links the tab's own client to whichever tab leads. The link survives a
 * change of leader: the tab says hello to the new one (from the last frame it has) and sends again whatever the
 * server has not acknowledged; the new leader drops what it had already.
 */
export class TabShare implements LinkOwner {
  readonly tab: string;
  readonly replica = new SessionReplica();
  leaderTransport: TransportName = 'websocket';
  private readonly channel: ChannelLike;
  private readonly election: Election;
  private readonly stopWatchingVisibility: () => void;
  private letAliveGo: () => void = () => {};
  private leader: Leader | null = null;
  /** A restart of this tab's leadership asked for by its leader (see Leader.awaitLateWord). */
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where the leader (this tab's, while it leads) speaks: a channel object of its own, so this tab hears it too. */
  private leaderChannel: ChannelLike | null = null;
  private link: TabLink | null = null;
  private linkOpen = false;
  private viewSid: string | null = null;
  /** Server id of the frame before the tab client's first: a tab that joins mid-session counts from 1 too. */
  private offset = 0;
  /** Server id of the last frame handed to the tab client. */
  private lastServer = 0;
  /** The tab's own number of the last frame the server accepted. */
  private acked = 0;
  /** Sent to a leader, not acknowledged: sent again to the next one. */
  private unacked: OutboundFrame[] = [];
  private role: 'leader' | 'follower' | null = null;
  /** Why the last leader's connection closed for good, until a new leader starts. */
  private stopped: TransportFailure | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly options: ResolvedOptions,
    private readonly life: TypedEmitter<LifecycleEvents>,
    private readonly platform: SharePlatform = browserPlatform(),
    /** Set when the browser cannot share (why): this tab leads a group of one. */
    private readonly alone: string | null = null,
  ) {
    this.tab = platform.newId();
    this.channel = platform.channel(name);
    this.channel.onmessage = (e) => this.heard(e.data as TabMessage);
    // Held for this tab's life: a leader that handed over to this tab learns from it whether the tab is gone.
    void platform.locks.request(aliveLock(name, this.tab), {}, () =>
      this.closed ? Promise.resolve() : new Promise<void>((resolve) => (this.letAliveGo = resolve)),
    );
    this.stopWatchingVisibility = platform.onVisibility(() => this.visibilityChanged());
    this.election = createElection(platform.locks, name, { lead: () => this.lead(), follow: () => this.follow() });
  }

  // ---- the tab's own client (LinkOwner) --------------------------------------------------

  attach(link: TabLink): void {
    this.link = link;
    this.linkOpen = false;
    this.unacked = []; // the client sends everything unacknowledged once the link opens
    const stopped = this.stopped;
    // The leader's connection was refused for good and no tab leads since: the client decides as if refused itself.
    if (stopped) return queueMicrotask(() => link.fail(stopped));
    this.hello();
  }

  detach(link: TabLink): void {
    if (this.link !== link) return;
    this.link = null;
    this.linkOpen = false;
  }

  send(frames: readonly ClientFrame[]): void {
    const out = frames.filter((f): f is OutboundFrame => f.t === 'emit' || f.t === 'req');
    if (out.length === 0) return; // acknowledgements are the leader's business
    this.unacked.push(...out);
    this.post({ k: 'up', tab: this.tab, frames: out });
  }

  /** The client closed: this tab leaves the group; when it led, the next tab in line takes the session over. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.post({ k: 'bye', tab: this.tab });
    this.stopLeading();
    this.election.close();
    this.stopWatchingVisibility();
    this.letAliveGo();
    this.channel.onmessage = null;
    this.channel.close();
    this.link = null;
  }

  /** Timers of this tab's leader connection (none when it does not lead). */
  get pendingTimers(): number {
    return this.leader?.pendingTimers ?? 0;
  }

  // ---- what the leader says ---------------------------------------------------------------

  private heard(m: TabMessage): void {
    if (this.closed) return;
    this.replica.apply(m);
    switch (m.k) {
      case 'sent':
        // This tab's own leader's word, back through the browser: every tab will have it, the frames may go.
        this.leader?.heard(Math.max(...m.items.map((i) => i.s)));
        return;
      case 'lead':
        return this.newLeader();
      case 'welcome':
        if (m.to === this.tab) this.welcomed(m);
        return;
      case 'frames':
        return this.frames(m.frames);
      case 'acked': {
        const n = m.tabs[this.tab];
        if (n !== undefined) this.ackedUpTo(n);
        return;
      }
      case 'down':
        return this.link?.fail({ kind: 'network', message: m.reason });
      case 'stopped':
        this.stopped = m.failure;
        return this.link?.fail(m.failure);
      case 'seen':
        // A tab became visible while this hidden tab leads: the lock goes on towards it.
        if (m.visible && this.leader && !this.platform.visible()) this.handOver('another tab became visible');
        return;
    }
  }

  private newLeader(): void {
    this.stopped = null;
    if (!this.link) return;
    this.hello();
    if (this.linkOpen && this.unacked.length > 0) this.post({ k: 'up', tab: this.tab, frames: this.unacked });
  }

  private hello(): void {
    this.post({ k: 'hello', tab: this.tab, sid: this.viewSid, last: this.lastServer, visible: this.platform.visible() });
  }

  private welcomed(w: LinkWelcome): void {
    this.replica.adopt(w.snapshot, w.last);
    const link = this.link;
    if (!link) return;
    this.leaderTransport = w.transport;
    if (!this.election.leading) this.setRole('follower', 'another tab holds the connection');
    if (this.linkOpen) {
      // A new leader (or a replay after a gap) on a link that stays open.
      if (w.sid !== this.viewSid || w.overrun) return link.fail({ kind: 'network', message: w.overrun ? 'this tab fell too far behind' : 'the shared session changed' });
      this.frames(w.replay);
      return this.ackedUpTo(w.ack);
    }
    const resumed = w.sid === this.viewSid && !w.overrun;
    if (!resumed) {
      this.offset = w.last;
      this.lastServer = w.last;
      this.acked = 0;
    }
    this.viewSid = w.sid;
    this.linkOpen = true;
    const welcome = { t: 'welcome', sid: w.sid, secret: '', cid: '', hb: 0, resumed, ack: resumed ? w.ack : 0, maxFrame: w.maxFrame } as const;
    // The client sees `resync` (a refused resume) when it had this session and missed frames the leader no longer has.
    const accepted = !resumed && w.prevAck !== undefined ? { prevAck: w.prevAck } : {};
    link.deliver(w.overrun ? { ...welcome, resumeFailed: 'overrun' } : { ...welcome, ...accepted });
    if (resumed) {
      this.acked = Math.max(this.acked, w.ack);
      this.frames(w.replay);
    }
  }

  private frames(frames: readonly SharedFrame[]): void {
    const link = this.link;
    if (!link || !this.linkOpen) return;
    for (const f of frames) {
      if (f.id <= this.lastServer) continue; // had it (from the previous leader, or a replay overlap)
      if (f.id > this.lastServer + 1) return this.hello(); // a gap: the leader replays from where this tab is
      this.lastServer = f.id;
      const id = f.id - this.offset;
      if (f.t === 'msg') link.deliver({ ...f, id });
      else link.deliver({ t: 'reply', id, re: f.tab === this.tab ? f.re : 0, d: f.d, ...(f.err ? { err: f.err } : {}) });
    }
  }

  private ackedUpTo(n: number): void {
    if (n <= this.acked) return;
    this.acked = n;
    this.unacked = this.unacked.filter((f) => f.seq > n);
    if (this.linkOpen) this.link?.deliver({ t: 'ack', n });
  }

  // ---- leading ----------------------------------------------------------------------------

  private lead(): void {
    if (this.closed) return;
    const visibleTab = this.platform.visible() ? null : this.replica.visibleTab(this.tab);
    if (!visibleTab) return this.startLeading();
    // Hidden, with a visible tab waiting: pass the lock on without connecting, unless that tab is gone (its lock of
    // life is free) without having said so.
    void this.platform.locks.request(aliveLock(this.name, visibleTab), { ifAvailable: true }, async (lock) => {
      if (this.closed || !this.election.leading) return;
      if (lock === null) return this.handOver('took the lock while hidden');
      const bye: TabMessage = { k: 'bye', tab: visibleTab };
      this.replica.apply(bye);
      this.post(bye);
      this.lead(); // another visible tab, or lead here
    });
  }

  private startLeading(): void {
    this.leaderChannel = this.platform.channel(this.name);
    const post = this.leaderChannel;
    this.leader = new Leader(this.url, this.options, this.tab, this.replica, {
      post: (m) => post.postMessage(m),
      // On the next task: the leader that asks is still on the stack.
      restart: () => {
        this.restartTimer = setTimeout(() => {
          if (this.closed || !this.leader || !this.election.leading) return;
          this.stopLeading();
          this.startLeading();
        }, 0);
      },
    });
    this.leaderChannel.onmessage = (e) => this.leader?.receive(e.data as TabMessage);
    // What the connection goes through is told in the leading tab (its client's own events are about its link).
    for (const event of ['error', 'fallback', 'transportFailed'] as const) {
      this.leader.life.on(event, (payload) => this.life.emit(event, payload as never));
    }
    this.setRole('leader', 'this tab holds the lock and the connection');
  }

  private follow(): void {
    this.stopLeading();
    if (!this.closed) this.setRole('follower', 'another tab took the lock');
  }

  private stopLeading(): void {
    clearTimeout(this.restartTimer);
    this.leader?.stop();
    this.leader = null;
    if (this.leaderChannel) {
      this.leaderChannel.onmessage = null;
      this.leaderChannel.close();
      this.leaderChannel = null;
    }
  }

  private visibilityChanged(): void {
    if (this.closed) return;
    const visible = this.platform.visible();
    this.post({ k: 'seen', tab: this.tab, visible });
    this.replica.apply({ k: 'seen', tab: this.tab, visible });
    if (visible || !this.leader) return;
    if (this.replica.visibleTab(this.tab)) this.handOver('this tab was hidden');
  }

  /**
   * A hidden leader (background timers are throttled) gives the connection up for a visible tab: it stops its
   * connection (the session waits on the server) and releases the lock to the next tab in line. A hidden tab that gets
   * it passes it on the same way without connecting, until a visible one holds it; the lock is never taken from its
   * holder, so no two tabs ever run the connection at once.
   */
  private handOver(why: string): void {
    this.stopLeading();
    this.options.logger('info', `giving the shared connection up for a visible tab: ${why}`);
    this.election.release();
  }

  private setRole(role: 'leader' | 'follower', reason: string): void {
    if (this.role === role) return;
    this.role = role;
    this.life.emit('share', this.alone ? { role: 'alone', reason: this.alone } : { role, reason });
  }

  private post(m: TabMessage): void {
    if (!this.closed || m.k === 'bye') this.channel.postMessage(m);
  }
}

/** The lock a tab holds for as long as it lives. */
const aliveLock = (name: string, tab: string): string => `${name} tab ${tab}`;
