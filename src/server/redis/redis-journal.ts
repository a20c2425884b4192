import type { SequencedFrame } from '../../protocol/frames';
import type { AdapterSettings } from '../adapter';
import type { SessionJournal, SessionSnapshot } from '../session-journal';
import type { RedisCommands } from './redis-commands';
import { SessionLog, type LoggedFrame } from './session-log';

/** How many held frames one read brings back while restoring a session (reads stay bounded). */
const RESTORE_PAGE = 200;

/**
 * A SessionJournal on Redis (SessionLog): every change is issued at once, so node-redis sends the writes of a turn
 * together and Redis applies them in order; `durable(sid)` is the completion of the last write issued for `sid`.
 * The frames a session numbers in one turn go out as one `appendNumbered`.
 */
export class RedisJournal implements SessionJournal {
  private readonly log: SessionLog;
  /** Per session: settles when every write issued so far has; rejects if one of them failed. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Frames numbered this turn, per session, written together at the end of the turn (or at `durable`). */
  private readonly pending = new Map<string, LoggedFrame[]>();
  /** Sessions a connection holds: their keys are kept alive past the grace period until it goes. */
  private readonly holding = new Set<string>();
  private readonly refresh: NodeJS.Timeout;

  constructor(
    redis: RedisCommands,
    private readonly settings: AdapterSettings,
    keyPrefix?: string,
  ) {
    this.log = new SessionLog(redis, keyPrefix === undefined ? {} : { keyPrefix });
    // A held session's keys live `2 × grace` and are renewed every `grace / 2`: a node that dies leaves them to
    // expire like a session nobody resumed.
    this.refresh = setInterval(() => {
      for (const sid of this.holding) this.write(sid, () => this.log.touch(sid, this.holdTtl));
    }, Math.max(1000, Math.floor(settings.sessionGraceMs / 2)));
    this.refresh.unref?.();
  }

  private get holdTtl(): number {
    return this.settings.sessionGraceMs * 2;
  }

  created(s: Pick<SessionSnapshot, 'id' | 'secret' | 'auth'>): void {
    this.tails.delete(s.id);
    this.write(s.id, async () => {
      if (!(await this.log.create(s.id, s.secret, this.settings.sessionGraceMs, s.auth))) throw new Error(`session id ${s.id} already taken`);
    });
  }

  appended(sid: string, frame: SequencedFrame, text: string): void {
    const batch = this.pending.get(sid);
    if (batch) {
      batch.push({ id: frame.id, text });
      return;
    }
    this.pending.set(sid, [{ id: frame.id, text }]);
    queueMicrotask(() => this.writeFrames(sid));
  }

  acked(sid: string, id: number): void {
    this.writeFrames(sid); // an ack may trim frames of this very turn
    this.write(sid, () => this.log.ack(sid, id));
  }

  accepted(sid: string, seq: number): void {
    this.write(sid, async () => {
      const r = await this.log.accept(sid, seq);
      if (r.outcome !== 'accepted' && r.outcome !== 'duplicate') throw new Error(`accepting seq ${seq}: ${r.outcome}`);
    });
  }

  joined(sid: string, room: string): void {
    this.write(sid, () => this.log.join(sid, room));
  }

  left(sid: string, room: string): void {
    this.write(sid, () => this.log.leave(sid, room));
  }

  held(sid: string, held: boolean): void {
    if (held) this.holding.add(sid);
    else this.holding.delete(sid);
    this.write(sid, () => this.log.touch(sid, held ? this.holdTtl : this.settings.sessionGraceMs));
  }

  ended(sid: string): void {
    this.holding.delete(sid);
    this.writeFrames(sid);
    this.write(sid, () => this.log.end(sid, 'ended'));
  }

  durable(sid: string): Promise<void> {
    this.writeFrames(sid);
    return this.tails.get(sid) ?? Promise.resolve();
  }

  async load(sid: string): Promise<SessionSnapshot | null> {
    this.tails.delete(sid); // a failed write of an earlier carrier must not fail the restored session
    const state = await this.log.load(sid);
    if (!state || state.ended !== null) return null;
    const frames: SessionSnapshot['frames'] = [];
    let last = state.firstId - 1;
    while (last < state.nextId) {
      const page = await this.log.readAfter(sid, last, RESTORE_PAGE);
      if (!page || page.overrun) return null;
      if (page.frames.length === 0) break;
      for (const f of page.frames) frames.push({ frame: JSON.parse(f.text) as SequencedFrame, text: f.text });
      last = page.frames[page.frames.length - 1]!.id;
    }
    return {
      id: sid,
      secret: state.secret,
      auth: state.auth ?? true,
      lastId: state.nextId,
      accepted: state.accepted,
      floor: state.firstId - 1,
      frames,
      rooms: await this.log.rooms(sid),
    };
  }

  /** Stops renewing and waits for every write issued so far (failed ones included). */
  async close(): Promise<void> {
    clearInterval(this.refresh);
    for (const sid of [...this.pending.keys()]) this.writeFrames(sid);
    await Promise.allSettled([...this.tails.values()]);
  }

  private writeFrames(sid: string): void {
    const frames = this.pending.get(sid);
    if (!frames) return;
    this.pending.delete(sid);
    this.write(sid, async () => {
      const r = await this.log.appendNumbered(sid, frames, this.settings.replayLimits);
      if (r.outcome !== 'ok') throw new Error(`writing frames ${frames[0]!.id}..${frames[frames.length - 1]!.id}: ${r.outcome}`);
    });
  }

  /** Issues `op` now and chains its completion into the session's tail. */
  private write(sid: string, op: () => Promise<unknown>): void {
    const done = op().then(() => undefined);
    const previous = this.tails.get(sid);
    const tail = previous ? Promise.all([previous, done]).then(() => undefined) : done;
    tail.catch(() => {}); // observed through durable(); never an unhandled rejection
    this.tails.set(sid, tail);
    // Forget a settled tail so the map holds only sessions with writes in flight.
    tail.then(
      () => {
        if (this.tails.get(sid) === tail) this.tails.delete(sid);
      },
      () => {},
    );
  }
}
