import { randomBytes } from 'node:crypto';
import type { SequencedFrame } from '../../protocol/frames';
import type { AdapterSettings } from '../adapter';
import { SessionMovedError, type FrameTemplate, type RecordedFrame, type SessionJournal, type SessionSnapshot } from '../session-journal';
import type { SessionSecrets } from '../session-secret';
import type { RedisCommands } from './redis-commands';
import { WriteGroup } from './write-group';
import { SessionLog } from './session-log';
import type { LoggedFrame } from './replay-log';
import { loadSnapshot } from './session-snapshot';
import { Handovers } from './handovers';
import type { NodeLink } from './node-link';
import { claimSession } from './session-claim';
import { DoneMarks, parseRecords } from './done-marks';


/** Where a frame came from: the session itself, its inbox (leaves it when written), or the bus (read again by a next carrier). */
type Origin = 'own' | 'inbox' | 'bus';

/** Frames numbered in one turn for one session. */
interface Batch {
  frames: LoggedFrame[];
  origins: Origin[];
  /** What `durable` answers while the batch waits for the end of the turn: one promise per batch, not per frame. */
  durable?: Promise<void>;
}

/**
 * A SessionJournal on Redis (SessionLog): one session's writes go out one after another, different sessions' writes
 * together (one `writeMany` per turn, WriteGroup); `durable(sid)` is the completion of the last write issued for
 * `sid`. The frames a session numbers in one turn go out as one append.
 */
export class RedisJournal implements SessionJournal {
  private readonly log: SessionLog;
  /** Per session: settles when every write issued so far has; rejects if one of them failed. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Frames numbered this turn, per session, written together at the end of the turn (or at `durable`). */
  private readonly pending = new Map<string, Batch>();
  /** The connection each session is held with here (its claim): writes are refused once another one took it. */
  private readonly claims = new Map<string, string>();
  /** Sessions a connection holds: their keys are kept alive past the grace period until it goes. */
  private readonly holding = new Set<string>();
  /** How far along the bus a session is (the server's sessions know), recorded with each write. */
  private positionOf: (sid: string) => string | undefined = () => undefined;
  private readonly refresh: NodeJS.Timeout;
  private readonly writes: WriteGroup;
  /** Client frames whose handlers are done, written once what they sent is (see DoneMarks). */
  private readonly done: DoneMarks;
  /** Sessions taken over from a live process: what it ran is marked done before unfinished frames are read here. */
  private readonly handovers: Handovers;

  constructor(
    private readonly redis: RedisCommands,
    private readonly settings: AdapterSettings,
    private readonly link: NodeLink,
    keyPrefix?: string,
  ) {
    this.log = new SessionLog(redis, keyPrefix === undefined ? {} : { keyPrefix });
    this.handovers = new Handovers(link);
    this.writes = new WriteGroup(this.log.replay, settings.replayLimits);
    this.done = new DoneMarks(this.log.clientFrames, (sid) => [this.tails.get(`handover:${sid}`)], (key, op) => this.write(key, op), (sid, err) => settings.logger.warn('marking client frames done failed: they may run again', { sid, err }));
    // A held session's keys live `2 × grace` and are renewed every `grace / 2`: a node that dies leaves them to
    // expire like a session nobody resumed.
    // The renewal also records how far along the bus the session is, so a next carrier's catch-up reads little.
    this.refresh = setInterval(() => {
      for (const sid of this.holding) {
        this.writeFrames(sid); // the position covers frames of this batch: they go first
        const position = this.positionOf(sid) ?? '';
        const cid = this.claims.get(sid) ?? '';
        this.write(sid, () => this.log.touch(sid, this.holdTtl, position, cid));
      }
    }, Math.max(1000, Math.floor(settings.sessionGraceMs / 2)));
    this.refresh.unref?.();
  }

  private get holdTtl(): number {
    return this.settings.sessionGraceMs * 2;
  }

  created(s: Pick<SessionSnapshot, 'id' | 'secret' | 'auth' | 'busPosition'>): void {
    this.tails.delete(s.id);
    this.write(s.id, async () => {
      if (!(await this.log.create(s.id, s.secret, this.settings.sessionGraceMs, s.auth, s.busPosition))) throw new Error(`session id ${s.id} already taken`);
    });
  }

  appended(sid: string, frame: SequencedFrame, text: string, fannedOut?: FrameTemplate): void {
    const logged = { id: frame.id, text, template: fannedOut };
    const origin: Origin = fannedOut ? 'bus' : 'own';
    const batch = this.pending.get(sid);
    if (batch) {
      batch.frames.push(logged);
      batch.origins.push(origin);
      return;
    }
    this.pending.set(sid, { frames: [logged], origins: [origin] });
    queueMicrotask(() => this.writeFrames(sid));
  }

  drained(sid: string, count: number): void {
    this.mark(sid, count, 'inbox');
  }

  readPositions(positionOf: (sid: string) => string | undefined): void {
    this.positionOf = positionOf;
  }

  dropped(sid: string): void {
    this.holding.delete(sid);
    this.claims.delete(sid);
  }

  /** The last `count` frames of this turn's batch came from `origin`. */
  private mark(sid: string, count: number, origin: Origin): void {
    const batch = this.pending.get(sid);
    if (!batch) return;
    for (let i = Math.max(0, batch.origins.length - count); i < batch.origins.length; i++) batch.origins[i] = origin;
  }

  handOver(sid: string, frame: SequencedFrame): void {
    const { id: _id, ...unnumbered } = frame;
    // Its own chain: the session's may have failed (that is often why it was let go).
    this.write(`handover:${sid}`, () => this.pushToInbox(sid, [JSON.stringify(unnumbered)]));
  }

  /** Queues frames for the session's next carrier and wakes it; a full inbox is an error, never a silent loss. */
  private async pushToInbox(sid: string, texts: string[]): Promise<void> {
    const pushed = await this.log.push(sid, texts, this.settings.replayLimits.maxMessages);
    if (pushed.outcome === 'ok' && pushed.owner !== '') void this.link.tell(pushed.owner, { t: 'inbox', sid });
    if (pushed.outcome === 'full') throw new Error(`session ${sid}: inbox full, ${texts.length} frames not handed over`);
  }

  async readInbox(sid: string, count: number): Promise<string[]> {
    // After this copy's claim: what a stale holder hands over before it is read here, and after it wakes this node.
    await this.tails.get(sid)?.catch(() => {});
    return this.log.readInbox(sid, 0, count);
  }

  acked(sid: string, id: number): void {
    this.writeFrames(sid); // an ack may trim frames of this very turn
    this.write(sid, () => this.writes.ack(sid, id));
  }

  accepted(sid: string, seq: number, frame?: RecordedFrame): Promise<boolean> {
    const cid = this.claims.get(sid);
    const record = frame && { text: JSON.stringify({ t: frame.t, e: frame.e, d: frame.d }), limits: this.settings.replayLimits };
    let fresh = false;
    this.write(sid, async () => {
      const r = await this.log.clientFrames.accept(sid, seq, cid, record);
      if (r.outcome === 'not_owner') throw new SessionMovedError(sid, `accepting seq ${seq}`);
      if (r.outcome !== 'accepted' && r.outcome !== 'duplicate') throw new Error(`accepting seq ${seq}: ${r.outcome}`);
      if (r.dropped) this.settings.logger.warn('unfinished client frames over the replay limits: the oldest will not be redelivered', { sid, dropped: r.dropped });
      fresh = r.outcome === 'accepted';
    });
    return this.tails.get(sid)!.then(() => fresh);
  }

  handled(sid: string, seq: number): void {
    this.done.add(sid, seq);
  }

  unfinished(sid: string): Promise<RecordedFrame[]> {
    this.writeFrames(sid);
    let records: { seq: number; text: string }[] = [];
    this.write(sid, async () => {
      await this.handovers.settled(sid); // a live previous holder first marks done what it ran
      records = await this.log.clientFrames.unfinished(sid);
    });
    return this.tails.get(sid)!.then(() => parseRecords(records, (seq) => this.settings.logger.error('unreadable client frame record skipped', { sid, seq })));
  }

  joined(sid: string, room: string): void {
    this.write(sid, () => this.log.join(sid, room));
  }

  left(sid: string, room: string): void {
    this.write(sid, () => this.log.leave(sid, room));
  }

  rekeyed(sid: string, expected: string, secrets: SessionSecrets): void {
    this.write(sid, async () => {
      const r = await this.log.rekey(sid, expected, secrets.secret, secrets.previous);
      if (r === 'moved') throw new SessionMovedError(sid, 'its secret was rotated elsewhere');
      if (r === 'gone') throw new Error('rotating the secret: gone');
    });
  }

  held(sid: string, cid: string | null): void {
    if (cid === null) {
      this.holding.delete(sid);
      // Past the grace period: the node's grace timer ends it (keeping its record) before Redis would drop it.
      this.write(sid, () => this.log.touch(sid, this.holdTtl));
      return;
    }
    this.holding.add(sid);
    this.writeFrames(sid); // written under the previous claim
    this.claims.set(sid, cid);
    this.write(sid, async () => {
      const r = await this.log.setOwner(sid, this.link.nodeId, cid, this.holdTtl);
      if (!r.ok) throw new Error('claiming the session: gone');
      // Another process held it: it lets its copy go (best effort; its writes are refused from now on anyway).
      if (r.previous) this.handovers.takeOver(sid, r.previous);
    });
  }

  async expire(sid: string, cid: string): Promise<boolean> {
    this.writeFrames(sid);
    await (this.tails.get(sid) ?? Promise.resolve());
    const ended = await this.log.endIfIdle(sid, cid, 'expired', this.settings.endedSessionMemoryMs);
    this.dropped(sid);
    return ended;
  }

  ended(sid: string): void {
    this.dropped(sid);
    this.writeFrames(sid);
    this.write(sid, () => this.log.end(sid, 'ended', this.settings.endedSessionMemoryMs));
  }

  durable(sid: string): Promise<void> {
    // Frames of this turn are written at its end, as one batch (with the inbox entries they number): wait for that
    // rather than split the batch.
    const batch = this.pending.get(sid);
    if (batch) return (batch.durable ??= new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => this.durable(sid)));
    return this.tails.get(sid) ?? Promise.resolve();
  }

  async loadEnded(sid: string): Promise<{ accepted: number; secrets: SessionSecrets } | null> {
    const state = await this.log.load(sid);
    if (!state || state.ended === null) return null;
    return { accepted: state.accepted, secrets: { secret: state.secret, previous: state.previousSecret } };
  }

  async load(sid: string, presented?: string): Promise<SessionSnapshot | null> {
    this.tails.delete(sid); // a failed write of an earlier carrier must not fail the restored session
    if (presented !== undefined) {
      // Claimed under a connection id of its own until one attaches (`held`), which then claims it again.
      const claim = await claimSession(this.redis, this.log, sid, presented, { nodeId: this.link.nodeId, cid: `restoring:${randomBytes(6).toString('base64url')}`, ttlMs: this.holdTtl });
      if (claim.claimed && claim.previous) this.handovers.takeOver(sid, claim.previous);
    }
    return loadSnapshot(this.log, sid);
  }

  /** Resolves once every write issued so far has settled (this turn's frames included). */
  async settled(): Promise<void> {
    await new Promise<void>((resolve) => queueMicrotask(resolve)); // this turn's batches are issued at its end
    await Promise.allSettled([...this.tails.values()]);
  }

  /** Another process took `sid` over: resolves once what this one ran of it is marked done (see Handovers). */
  async marksWritten(sid: string): Promise<void> {
    await this.tails.get(sid)?.catch(() => {}); // acceptances whose handlers run once they are durable
    await new Promise((resolve) => setImmediate(resolve)); // those handlers ran, their marks are queued
    await this.tails.get(`done:${sid}`)?.catch(() => {});
  }

  /** The process that held a session this one took over has let it go (request `id`). */
  released(id: number): void {
    this.handovers.answered(id);
  }

  /** Stops renewing and waits for every write issued so far (failed ones included). */
  async close(): Promise<void> {
    clearInterval(this.refresh);
    this.handovers.close();
    // Writes may lead to more (a recorded frame runs its handler, whose reply is handed over): wait until none is left.
    for (let rounds = 0; rounds < 10; rounds++) {
      for (const sid of [...this.pending.keys()]) this.writeFrames(sid);
      const inFlight = [...this.tails.values()];
      if (inFlight.length === 0) break;
      await Promise.allSettled(inFlight);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private writeFrames(sid: string): void {
    const batch = this.pending.get(sid);
    if (!batch) return;
    this.pending.delete(sid);
    const { frames, origins } = batch;
    const drained = origins.filter((o) => o === 'inbox').length;
    const cid = this.claims.get(sid);
    const position = this.positionOf(sid);
    this.write(sid, async () => {
      const r = await this.writes.append({ sid, frames, cid, drained, busPosition: position });
      if (r.outcome === 'ok') return;
      // Another process carries the session now: what this copy emitted goes to it through the inbox (drained
      // entries are still there, bus events it reads from the bus), so nothing the app sent is lost; then this
      // copy is let go.
      if (r.outcome === 'not_owner' || r.outcome === 'conflict') {
        const own = frames.filter((_, i) => origins[i] === 'own').map((f) => unnumber(f.text));
        if (own.length > 0) await this.pushToInbox(sid, own);
        throw new SessionMovedError(sid, r.outcome);
      }
      throw new Error(`writing frames ${frames[0]!.id}..${frames[frames.length - 1]!.id}: ${r.outcome}`);
    });
  }

  /**
   * Runs `op` after the session's previous write has succeeded: one session's writes reach Redis strictly in order
   * (even when a script must be re-sent after NOSCRIPT), while different sessions' writes go out together. After a
   * failed write nothing more is written for the session until it is created or restored again.
   */
  private write(sid: string, op: () => Promise<unknown>): void {
    const previous = this.tails.get(sid);
    const tail = (previous ? previous.then(op) : op()).then(() => undefined);
    tail.catch(() => {}); // observed through durable(); never an unhandled rejection
    this.tails.set(sid, tail);
    // Forget a settled tail so the map holds only sessions with writes in flight (a failed one stays, see above).
    tail.then(() => {
      if (this.tails.get(sid) === tail) this.tails.delete(sid);
    }, () => {});
  }
}

/** A logged frame's text without its id: what an inbox entry holds. */
function unnumber(text: string): string {
  const { id: _id, ...rest } = JSON.parse(text) as { id?: number };
  return JSON.stringify(rest);
}
