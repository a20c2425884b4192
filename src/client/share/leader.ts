import type { MessageFrame, ReplyFrame, WelcomeFrame } from '../../protocol/frames';
import type { TransportFailure } from '../../transports/transport';
import type { ResolvedOptions } from '../options';
import type { OutboxEntry } from '../outbox';
import { RealtimeError } from '../errors';
import type { LostSession } from '../session';
import { LeaderConnection } from './leader-connection';
import type { Hello, SentItem, SharedFrame, TabMessage } from './messages';
import type { SessionReplica } from './replica';

/** Whose an entry of the connection's outbox is: a tab and that tab's own number for it; `s`: its session number. */
interface Origin {
  tab: string;
  n: number;
  s?: number;
}

/** How the leader speaks to the tabs (the channel) and what it tells its own tab. */
export interface LeaderLink {
  post(message: TabMessage): void;
  /** Lead again from the replica as it is now (a new Leader on the same lock). */
  restart(): void;
}

/** How long a new leader waits for the word of frames its predecessor numbered (see `opened`). */
const LATE_WORD_MS = 1000;

/**
 * The leading tab's router: the one connection (LeaderConnection) for every tab of the group. Tabs' emits and
 * requests go into its outbox once each (a resend to a new leader is recognised by the tab's id and own number);
 * every server frame goes to every tab, a reply naming the tab that asked; what the next leader needs is said as it
 * changes (SessionReplica keeps it in every tab). It starts from its tab's replica, so it resumes the session.
 */
export class Leader {
  private readonly connection: LeaderConnection;
  private readonly origins = new Map<OutboxEntry, Origin>();
  /** Numbered frames not yet acknowledged, by number (in number order). */
  private readonly bySeq = new Map<number, Origin>();
  /** Requests sent, by number, until their reply. */
  private readonly requests = new Map<number, Origin>();
  /** Per tab: the highest own number taken into the outbox (sent or not). */
  private readonly taken: Map<string, number>;
  /** Tabs that said hello while the connection was not open: answered when it opens. */
  private readonly waiting = new Map<string, Hello>();
  private framesOut: SharedFrame[] = [];
  private stopped = false;
  /** The highest session number this leader's replica knew of when it started. */
  private readonly known: number;
  /** A number the server accepted that this tab has not heard of yet (0: none): nothing is sent until it has. */
  private awaitingWordOf = 0;
  /** Gives up on that word (LATE_WORD_MS). */
  private lateWordTimer: ReturnType<typeof setTimeout> | undefined;
  /** The session lost at the last resync, and per tab its own number of the last frame it accepted (`prevAck`). */
  private lostAccepted: { sid: string; tabs: Map<string, number> } | null = null;

  constructor(
    url: string,
    opts: ResolvedOptions,
    private readonly tab: string,
    private readonly replica: SessionReplica,
    private readonly link: LeaderLink,
  ) {
    const seed = replica.seed();
    this.known = replica.lastSeq;
    this.taken = new Map(replica.accepted);
    this.connection = new LeaderConnection(url, opts, seed, this.known, {
      opened: (transport, welcome, lost) => this.opened(welcome, lost),
      delivered: (frame) => this.delivered(frame),
      numbered: (entries) => this.numbered(entries),
      acked: (n) => this.acked(n),
      dropped: (failure) => this.say({ k: 'down', reason: `the leading tab's connection dropped: ${failure.message}` }),
      // Tabs link again (at once), and their clients show the transport the session is on now.
      moved: (transport, welcome) => {
        this.keepSession(welcome);
        this.say({ k: 'down', reason: `the leading tab's connection moved to ${transport}` });
      },
      // Every tab's client decides from the same failure as a lone client would (it stops), this tab's too; the next
      // tab in line then tries afresh, with its own credentials.
      stopped: (error) => this.say({ k: 'stopped', failure: (error.cause as TransportFailure | undefined) ?? { kind: 'http', status: error.status ?? 400, message: error.message } }),
    });
    for (const item of seed.resend) this.take(item.tab, item.n, item.f);
    this.say({ k: 'lead', tab });
    this.connection.core.start();
  }

  /** Every message of a tab, as the channel delivers it. */
  receive(m: TabMessage): void {
    if (this.stopped) return;
    switch (m.k) {
      case 'hello':
        return this.hello(m);
      case 'up':
        for (const f of m.frames) {
          // Each tab's frames are taken in its own order, once: one at or below `taken` went out already (to this
          // leader or one before); one after a gap was posted past frames no leader heard (between leaders), and
          // the tab sends them all again, in order, when it hears this leader's `lead`.
          if (f.seq !== (this.taken.get(m.tab) ?? 0) + 1) continue;
          try {
            this.take(m.tab, f.seq, f);
          } catch {
            break; // the outbox is full: the tab keeps these and sends them again to the next leader
          }
          this.taken.set(m.tab, f.seq);
        }
        return this.connection.send();
      case 'bye':
        this.waiting.delete(m.tab);
        return;
    }
  }

  /** Stops the connection (the session stays on the server for the next leader) and every timer. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.lateWordTimer);
    this.flushFrames();
    this.connection.core.shutdown({ reason: 'the tab stopped leading' });
  }

  /**
   * This tab heard the leader's word that frames up to number `n` went out (its own channel object, through the
   * browser): every other tab will hear it too, even should this one die now, so those frames may leave.
   */
  heard(n: number): void {
    this.connection.noted(n);
    // A late word from the tab that led before (the replica has applied it already): lead again from it.
    if (this.awaitingWordOf > 0 && this.replica.lastSeq >= this.awaitingWordOf) this.leadAgain();
  }

  /** The connection's own lifecycle events (fallbacks, failed transports, errors). */
  get life(): LeaderConnection['life'] {
    return this.connection.life;
  }

  get pendingTimers(): number {
    return this.connection.core.pendingTimers;
  }

  private take(tab: string, n: number, f: SentItem['f']): void {
    this.origins.set(this.connection.add(f), { tab, n });
  }

  private hello(h: Hello): void {
    if (this.connection.core.state !== 'open' || !this.replica.sid) return void this.waiting.set(h.tab, h);
    const sid = this.replica.sid;
    const replay = h.sid === sid ? this.replica.after(h.last) : [];
    if (h.sid !== sid || replay === null) {
      // A tab of another session, a new tab, or one too far behind starts over here: its numbering starts again too.
      this.taken.delete(h.tab);
      this.replica.acked.delete(h.tab);
    }
    this.flushFrames();
    this.say({
      k: 'welcome',
      to: h.tab,
      sid,
      last: this.replica.last,
      ack: this.replica.acked.get(h.tab) ?? 0,
      maxFrame: this.connection.core.session.maxFrame,
      transport: this.connection.core.transport!,
      replay: replay ?? [],
      snapshot: this.replica.snapshot(),
      ...(replay === null ? { overrun: true as const } : {}),
      ...(this.lostAccepted && h.sid === this.lostAccepted.sid ? { prevAck: this.lostAccepted.tabs.get(h.tab) ?? 0 } : {}),
    });
  }

  private opened(welcome: WelcomeFrame, lost: LostSession | null): void {
    this.keepSession(welcome);
    if (!lost && welcome.resumed && welcome.ack > this.known) return this.awaitLateWord(welcome.ack);
    if (lost) {
      // A new session: what tabs had sent belonged to the old one. They are told (`down`), reconnect, see `resync`
      // and send their unacknowledged frames again, numbered afresh; so nothing of theirs is sent twice from here.
      // Those the server says the old session accepted they drop instead (each tab is told its own number of them).
      const tabs = new Map<string, number>();
      for (const [s, o] of this.bySeq) if (lost.accepted !== undefined && s <= lost.accepted) tabs.set(o.tab, Math.max(tabs.get(o.tab) ?? 0, o.n));
      this.lostAccepted = lost.accepted === undefined ? null : { sid: lost.previousSessionId, tabs };
      for (const entry of this.origins.keys()) this.connection.core.outbox.remove(entry);
      this.origins.clear();
      this.bySeq.clear();
      this.requests.clear();
      this.taken.clear();
      this.say({ k: 'down', reason: `the session could not be resumed (${lost.reason})` });
    }
    const hellos = [...this.waiting.values()];
    this.waiting.clear();
    for (const h of hellos) this.hello(h);
  }

  /**
   * Every tab keeps the session and its current secret: a resume gives a fresh secret, and whichever tab leads next
   * resumes with it (the one before dies once this leader used the new one). A new session resets the replicas.
   */
  private keepSession(welcome: WelcomeFrame): void {
    if (welcome.sid !== this.replica.sid || welcome.secret !== this.replica.secret) this.say({ k: 'session', sid: welcome.sid, secret: welcome.secret });
  }

  /**
   * The server accepted numbers this tab never heard of: the leader before numbered frames and sent them, and its
   * word of them, which left its tab first, has not arrived yet (the lock came first). Numbering on from what this tab
   * knows would give those numbers to other frames, which the server would drop as repeats, and send the unheard ones
   * again under new numbers, to run twice. So nothing is sent until the word is here; then the tab leads again from
   * the fuller replica. Should it never come, the numbers up to `ack` count as used.
   */
  private awaitLateWord(ack: number): void {
    this.connection.hold();
    if (this.replica.lastSeq >= ack) return this.leadAgain(); // it came while the connection opened
    this.awaitingWordOf = ack;
    this.lateWordTimer = setTimeout(() => {
      this.connection.life.emit('error', new RealtimeError('protocol', `the word of frames up to ${ack} never came from the tab that led; counted as sent`));
      this.replica.usedUpTo(ack);
      this.leadAgain();
    }, LATE_WORD_MS);
  }

  /** Asks the tab to lead again from its replica as it is now (this leader stops then). */
  private leadAgain(): void {
    this.awaitingWordOf = 0;
    clearTimeout(this.lateWordTimer);
    if (!this.stopped) this.link.restart();
  }

  private delivered(frame: MessageFrame | ReplyFrame): void {
    let shared: SharedFrame;
    if (frame.t === 'reply') {
      const origin = this.requests.get(frame.re);
      this.requests.delete(frame.re);
      shared = { ...frame, re: origin?.n ?? 0, tab: origin?.tab ?? '', s: frame.re };
    } else {
      shared = frame;
    }
    this.replica.passed(shared);
    // One message per task for a burst: the server batches a turn's frames, so do we.
    if (this.framesOut.push(shared) === 1) queueMicrotask(() => this.flushFrames());
  }

  private flushFrames(): void {
    if (this.framesOut.length === 0) return;
    const frames = this.framesOut;
    this.framesOut = [];
    this.link.post({ k: 'frames', frames });
  }

  private numbered(entries: readonly { entry: OutboxEntry; seq: number }[]): void {
    const items: SentItem[] = [];
    for (const { entry, seq } of entries) {
      const origin = this.origins.get(entry);
      if (!origin) continue;
      origin.s = seq;
      this.bySeq.set(seq, origin);
      if (entry.frame.t === 'req') this.requests.set(seq, origin);
      items.push({ s: seq, tab: origin.tab, n: origin.n, f: { ...entry.frame, seq } });
    }
    if (items.length > 0) this.say({ k: 'sent', items });
  }

  private acked(n: number): void {
    const tabs: Record<string, number> = {};
    let any = false;
    for (const [seq, origin] of this.bySeq) {
      if (seq > n) break;
      this.bySeq.delete(seq);
      tabs[origin.tab] = Math.max(tabs[origin.tab] ?? 0, origin.n);
      any = true;
    }
    for (const [entry, origin] of this.origins) if (origin.s !== undefined && origin.s <= n) this.origins.delete(entry);
    if (any) this.say({ k: 'acked', n, tabs });
  }

  /** Tells every tab, and this tab's replica at once (it hears the echo too; applying twice changes nothing). */
  private say(m: TabMessage): void {
    if (m.k !== 'frames') this.flushFrames(); // keep the order tabs see: frames first, then what follows them
    this.replica.apply(m);
    this.link.post(m);
  }
}
