import { DEFAULT_KEY_PREFIX, sessionKeys, type SessionKeys } from './keys';
import { fillTemplate, frameTemplate, type UnnumberedFrame } from './frame-template';
import { replyArray, replyInt, replyText, type RedisCommands } from './redis-commands';
import {
  appendScript,
  clearOwnerScript,
  createScript,
  endIfIdleScript,
  rekeyScript,
  endScript,
  pushScript,
  joinScript,
  leaveScript,
  readAfterScript,
  setOwnerScript,
  touchScript,
  writeManyScript,
} from './scripts';
import type { FrameTemplate } from '../session-journal';
import { ClientFrameLog, type AcceptResult } from './client-frame-log';

export type { AcceptOutcome, AcceptResult } from './client-frame-log';

export interface SessionLogOptions {
  /** Prepended to every key. Default `rf:`. */
  keyPrefix?: string;
}

/** The replay bounds of one session, the same two as ReplayBuffer's (`replayBufferMaxMessages` / `MaxBytes`). */
export interface ReplayLimits {
  maxMessages: number;
  maxBytes: number;
}

/** A session's `state` hash, read in one HMGET. */
export interface SessionLogState {
  sid: string;
  secret: string;
  /** The secret `secret` replaced at the last resume, until the client presented `secret`; null: none. */
  previousSecret: string | null;
  /** What `authenticate` returned when the session was made, as stored (JSON); undefined if none was given. */
  auth: unknown;
  /** Last server frame id assigned (0 before the first). */
  nextId: number;
  /** The client's cumulative acknowledgement of server frames. */
  acked: number;
  /** Last client seq accepted. */
  accepted: number;
  /** UTF-8 bytes of the frames held. */
  bytes: number;
  /** Lowest id still held; every id from here to `nextId` is held. A resume needs `last + 1 >= firstId`. */
  firstId: number;
  /** Frames held: `nextId - firstId + 1`. */
  held: number;
  /** Node holding the active connection, or null. */
  owner: string | null;
  /** Id of the active connection, or null. */
  cid: string | null;
  /** Why the session ended, or null while it lives. */
  ended: string | null;
  /** The bus position the session has taken events up to (its frames include every one it was sent), or null. */
  busPosition: string | null;
}

/** A numbered frame and its JSON text, as held in the log and sent to the client. */
export interface LoggedFrame {
  id: number;
  text: string;
  /** The text is `prefix + id + suffix` of this template, shared with other sessions' frames: sent once per write. */
  template?: FrameTemplate | undefined;
}

export interface ReadAfterResult {
  /** At most the `count` asked for, in id order, consecutive from `last + 1`; none on overrun. */
  frames: LoggedFrame[];
  /** Some frame after `last` is gone (acknowledged or dropped over a limit): the resume must be refused. */
  overrun: boolean;
  /** Last id assigned; `frames` ending below it means there is more to read. */
  nextId: number;
}

/** `conflict`: the first id was not nextId + 1, so someone else numbered frames meanwhile; nothing was written. */
export type AppendNumberedResult =
  | { outcome: 'ok' | 'conflict' | 'not_owner'; nextId: number }
  | { outcome: 'gone' };

/** One write of `writeMany`: the arguments of `appendNumbered`, or of `ack`. */
export type SessionWrite =
  | { kind: 'append'; sid: string; frames: readonly LoggedFrame[]; cid?: string | undefined; drained?: number; busPosition?: string | undefined }
  | { kind: 'ack'; sid: string; id: number };

/** `acked`: the ack's result (-1: the session is gone). */
export type SessionWriteResult = AppendNumberedResult | { outcome: 'acked'; acked: number };

export interface Owner {
  nodeId: string;
  cid: string;
}

/** `previous`: the connection replaced, which its node should close with `replaced`. */
export type SetOwnerResult = { ok: true; previous: Owner | null } | { ok: false };


const STATE_FIELDS = ['secret', 'auth', 'nextId', 'acked', 'accepted', 'bytes', 'firstId', 'owner', 'cid', 'ended', 'bus', 'prev'] as const;

/**
 * The per-session state and replay log of the Redis adapter, written as it changes so any node can carry on a
 * session another node held. Every method is one round trip (a script's first use after a Redis restart costs one
 * more). Keys of a session (all tagged `{sid}`, all expiring together):
 *
 * - `rf:{sid}:state` HASH: secret, auth, nextId, acked, accepted, bytes, firstId, owner, cid, ended, bus (position),
 *   prev (the previous secret, see `rekey`).
 * - `rf:{sid}:out` LIST: the JSON of the frames not yet acknowledged, oldest first (frame firstId at index 0).
 * - `rf:{sid}:rooms` SET of room names (fan-out itself reads membership from the nodes' memory, see StreamBus).
 *
 * Frames are numbered either here (`append`: the script takes the next id, whichever node calls) or by the node
 * that owns the session in memory (`appendNumbered`, checked against nextId and fenced by the connection id).
 *
 * Memory per session is bounded by the same two limits as ReplayBuffer. Nothing here refreshes a TTL except
 * `touch` and the optional `ttlMs` of setOwner / clearOwner: the lifetime policy is the caller's.
 */
export class SessionLog {
  private readonly prefix: string;
  /** Client frames' acceptance and their records until handled (redelivery after a node died). */
  readonly clientFrames: ClientFrameLog;

  /** `redis`: an already connected client (node-redis's fits as it is). */
  constructor(
    private readonly redis: RedisCommands,
    options: SessionLogOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.clientFrames = new ClientFrameLog(redis, (sid) => this.keys(sid));
  }

  keys(sid: string): SessionKeys {
    return sessionKeys(this.prefix, sid);
  }

  /**
   * Makes a session that expires in `ttlMs` unless touched. `auth` is stored as JSON (what does not survive
   * JSON.stringify is lost). False when the id is taken.
   */
  async create(sid: string, secret: string, ttlMs: number, auth?: unknown, busPosition = ''): Promise<boolean> {
    const k = this.keys(sid);
    const args = [secret, positiveInt(ttlMs, 'ttlMs'), auth === undefined ? '' : JSON.stringify(auth), busPosition];
    return replyInt(await createScript.run(this.redis, [k.state], args), 'create') === 1;
  }

  /**
   * Sets the session's secrets to `secret` and `previous` (null: none), only while its current secret is `expected`.
   * `moved`: it is not (another node rotated it first); `gone`: no such session, or it ended.
   */
  async rekey(sid: string, expected: string, secret: string, previous: string | null): Promise<'ok' | 'moved' | 'gone'> {
    const reply = replyInt(await rekeyScript.run(this.redis, [this.keys(sid).state], [expected, secret, previous ?? '']), 'rekey');
    return reply === 1 ? 'ok' : reply === 0 ? 'moved' : 'gone';
  }

  /** The session's state, or null when Redis has no such session (expired, or lost in a Redis restart). */
  async load(sid: string): Promise<SessionLogState | null> {
    const reply = replyArray(await this.redis.sendCommand(['HMGET', this.keys(sid).state, ...STATE_FIELDS]), 'load');
    if (reply[0] === null || reply[0] === undefined) return null;
    const text = (i: number) => replyText(reply[i], 'load');
    const int = (i: number) => replyInt(reply[i], 'load');
    const auth = reply[1] === null || reply[1] === undefined ? '' : text(1);
    const nextId = int(2);
    const firstId = int(6);
    return {
      sid,
      secret: text(0),
      previousSecret: reply[11] === null || reply[11] === undefined ? null : text(11) || null,
      auth: auth === '' ? undefined : (JSON.parse(auth) as unknown),
      nextId,
      acked: int(3),
      accepted: int(4),
      bytes: int(5),
      firstId,
      held: Math.max(0, nextId - firstId + 1),
      owner: text(7) || null,
      cid: text(8) || null,
      ended: text(9) || null,
      busPosition: reply[10] === null || reply[10] === undefined ? null : text(10) || null,
    };
  }

  /** Numbers `frame` (the next id) and logs it. Null when the session is gone or ended: nothing is written. */
  async append(sid: string, frame: UnnumberedFrame, limits: ReplayLimits): Promise<LoggedFrame | null> {
    const logged = await this.appendMany(sid, [frame], limits);
    return logged?.[0] ?? null;
  }

  /** Numbers and logs several frames of one session in order, in one round trip. */
  async appendMany(sid: string, frames: readonly UnnumberedFrame[], limits: ReplayLimits): Promise<LoggedFrame[] | null> {
    if (frames.length === 0) return [];
    const k = this.keys(sid);
    const templates = frames.map(frameTemplate);
    const args = [positiveInt(limits.maxMessages, 'maxMessages'), positiveInt(limits.maxBytes, 'maxBytes')];
    for (const t of templates) args.push(t.prefix, t.suffix);
    const reply = replyArray(await appendScript.run(this.redis, [k.state, k.out], args), 'append');
    const first = replyInt(reply[0], 'append');
    if (first === 0) return null;
    return templates.map((t, i) => ({ id: first + i, text: fillTemplate(t, first + i) }));
  }

  /**
   * Logs frames their owner already numbered (`frames[0].id` must be nextId + 1, the rest consecutive), for a node
   * that numbers in memory and writes behind. With `cid`, only while that connection holds the session: a node
   * that lost the session to another cannot write into it. `drained`: how many inbox entries these frames number
   * (SessionInbox), removed from the inbox in the same step. `busPosition`: recorded with the frames (the bus events
   * they number are then taken). One round trip, all or nothing.
   */
  async appendNumbered(sid: string, frames: readonly LoggedFrame[], limits: ReplayLimits, cid?: string, drained = 0, busPosition = ''): Promise<AppendNumberedResult> {
    const [result] = await this.writeMany([{ kind: 'append', sid, frames, cid, drained, busPosition }], limits);
    return result as AppendNumberedResult;
  }


  /**
   * Appends (as appendNumbered) and acks (as ack) of several sessions in one round trip, in order, each all or
   * nothing on its own. A template shared by several frames crosses the wire once.
   */
  async writeMany(writes: readonly SessionWrite[], limits: ReplayLimits): Promise<SessionWriteResult[]> {
    if (writes.length === 0) return [];
    const keys: string[] = [];
    const templates = new Map<FrameTemplate, number>();
    const body: unknown[] = [];
    for (const w of writes) {
      const k = this.keys(w.sid);
      keys.push(k.state, k.out, k.inbox);
      if (w.kind === 'ack') {
        body.push(['k', Number(nonNegativeInt(w.id, 'id'))]);
        continue;
      }
      checkConsecutive(w.frames);
      const frames = w.frames.map((f) => {
        if (!f.template) return f.text;
        let index = templates.get(f.template);
        if (index === undefined) templates.set(f.template, (index = templates.size));
        return index;
      });
      body.push(['a', w.cid ?? '', w.frames[0]!.id, Number(nonNegativeInt(w.drained ?? 0, 'drained')), w.busPosition ?? '', frames]);
    }
    const json = JSON.stringify({ t: [...templates.keys()].map((t) => [t.prefix, t.suffix]), w: body });
    const args = [positiveInt(limits.maxMessages, 'maxMessages'), positiveInt(limits.maxBytes, 'maxBytes'), json];
    const reply = replyArray(await writeManyScript.run(this.redis, keys, args), 'writeMany');
    return reply.map((r) => {
      const [outcome, n] = replyArray(r, 'writeMany');
      return replyText(outcome, 'writeMany') === 'acked' ? { outcome: 'acked', acked: replyInt(n, 'writeMany') } : appendResult(r);
    });
  }

  /**
   * The client has every frame with `id <= id`. Trims them and returns the new cumulative ack (never past the last
   * id assigned, never backwards), or null when the session is gone.
   */
  async ack(sid: string, id: number): Promise<number | null> {
    const [result] = await this.writeMany([{ kind: 'ack', sid, id }], { maxMessages: 1, maxBytes: 1 }); // limits bind appends only
    return result?.outcome === 'acked' && result.acked >= 0 ? result.acked : null;
  }


  /**
   * At most `count` frames with id > `last`, in order: a resume replays in pages, so no read is unbounded. Null
   * when the session is gone.
   */
  async readAfter(sid: string, last: number, count: number): Promise<ReadAfterResult | null> {
    const k = this.keys(sid);
    const args = [nonNegativeInt(last, 'last'), positiveInt(count, 'count')];
    const reply = replyArray(await readAfterScript.run(this.redis, [k.state, k.out], args), 'readAfter');
    if (reply.length === 0) return null;
    const nextId = replyInt(reply[0], 'readAfter');
    const firstId = replyInt(reply[1], 'readAfter');
    const frames: LoggedFrame[] = [];
    for (let i = 2; i + 1 < reply.length; i += 2) {
      frames.push({ id: replyInt(reply[i], 'readAfter'), text: replyText(reply[i + 1], 'readAfter') });
    }
    return { frames, overrun: last + 1 < firstId, nextId };
  }

  /** As ClientFrameLog.accept, without a record (the frame is not kept for redelivery). */
  accept(sid: string, seq: number, cid?: string): Promise<AcceptResult> {
    return this.clientFrames.accept(sid, seq, cid);
  }

  /** Adds the session to `room` (its own set of rooms: fan-out reads membership from the nodes' memory). False when
   * the session is gone or ended. */
  async join(sid: string, room: string): Promise<boolean> {
    const k = this.keys(sid);
    return replyInt(await joinScript.run(this.redis, [k.state, k.rooms], [room]), 'join') === 1;
  }

  /** Removes the session from `room` (also for a session that is gone). True if it was in it. */
  async leave(sid: string, room: string): Promise<boolean> {
    return replyInt(await leaveScript.run(this.redis, [this.keys(sid).rooms], [room]), 'leave') === 1;
  }

  /** The session's rooms (as many as the app made it join). */
  async rooms(sid: string): Promise<string[]> {
    const reply = replyArray(await this.redis.sendCommand(['SMEMBERS', this.keys(sid).rooms]), 'rooms');
    return reply.map((r) => replyText(r, 'rooms'));
  }


  /**
   * Makes `cid` on `nodeId` the session's active connection and returns the one it replaces. With `ttlMs`, also
   * sets the session's lifetime (a connected session is kept alive by its node's touches).
   */
  async setOwner(sid: string, nodeId: string, cid: string, ttlMs?: number): Promise<SetOwnerResult> {
    if (nodeId === '' || cid === '') throw new TypeError('nodeId and cid must be non-empty');
    const args = [nodeId, cid, ttlMs === undefined ? '' : positiveInt(ttlMs, 'ttlMs')];
    const reply = replyArray(await setOwnerScript.run(this.redis, this.endKeys(sid), args), 'setOwner');
    if (reply.length === 0) return { ok: false };
    const previous = { nodeId: replyText(reply[0], 'setOwner'), cid: replyText(reply[1], 'setOwner') };
    return { ok: true, previous: previous.cid === '' ? null : previous };
  }

  /**
   * Clears the owner only if `cid` still is the active connection (a connection that was replaced must not clear
   * its successor). With `ttlMs`, also starts the grace period. True when cleared.
   */
  async clearOwner(sid: string, cid: string, ttlMs?: number): Promise<boolean> {
    if (cid === '') throw new TypeError('cid must be non-empty');
    const args = [cid, ttlMs === undefined ? '' : positiveInt(ttlMs, 'ttlMs')];
    return replyInt(await clearOwnerScript.run(this.redis, this.endKeys(sid), args), 'clearOwner') === 1;
  }

  /**
   * Sets every key of the session to expire in `ttlMs`, and records `busPosition` while connection `cid` (if given)
   * holds it. False when the session is gone (nothing is created).
   */
  async touch(sid: string, ttlMs: number, busPosition = '', cid = ''): Promise<boolean> {
    const args = [positiveInt(ttlMs, 'ttlMs'), busPosition, cid];
    return replyInt(await touchScript.run(this.redis, this.endKeys(sid), args), 'touch') === 1;
  }

  /**
   * Ends the session for good: the log and rooms go, the state stays (with `ended`) until it expires so a resume
   * learns it ended. True for the call that ended it; the first reason wins.
   */
  async end(sid: string, reason: string, keepMs?: number): Promise<boolean> {
    if (reason === '') throw new TypeError('reason must be non-empty');
    const keep = keepMs === undefined ? '' : positiveInt(keepMs, 'keepMs');
    return replyInt(await endScript.run(this.redis, this.endKeys(sid), [reason, keep]), 'end') === 1;
  }

  /**
   * Ends the session only if no connection attached since `cid` (the last one this node held): a node whose grace
   * timer ran out must not end a session another node carries on. True when ended here.
   */
  async endIfIdle(sid: string, cid: string, reason: string, keepMs?: number): Promise<boolean> {
    const keep = keepMs === undefined ? '' : positiveInt(keepMs, 'keepMs');
    return replyInt(await endIfIdleScript.run(this.redis, this.endKeys(sid), [reason, cid, keep]), 'endIfIdle') === 1;
  }

  /**
   * Queues events for the session's owner to number (JSON texts of unnumbered frames), bounded by `max` entries.
   * `owner`: the node to wake ('' when none holds the session: the entries wait for whoever restores it).
   */
  async push(sid: string, texts: readonly string[], max: number): Promise<{ outcome: 'ok' | 'full' | 'gone'; owner: string }> {
    const k = this.keys(sid);
    const reply = replyArray(await pushScript.run(this.redis, [k.state, k.inbox], [positiveInt(max, 'max'), ...texts]), 'push');
    return { outcome: replyText(reply[0], 'push') as 'ok' | 'full' | 'gone', owner: replyText(reply[1], 'push') };
  }

  /** Up to `count` inbox entries from position `start` (entries before it are being numbered already). */
  async readInbox(sid: string, start: number, count: number): Promise<string[]> {
    positiveInt(count, 'count');
    const args = ['LRANGE', this.keys(sid).inbox, nonNegativeInt(start, 'start'), String(start + count - 1)];
    return replyArray(await this.redis.sendCommand(args), 'readInbox').map((r) => replyText(r, 'readInbox'));
  }

  /** Every key of the session, state first (the scripts that expire or end a session touch them all). */
  private endKeys(sid: string): string[] {
    const k = this.keys(sid);
    return [k.state, k.out, k.rooms, k.inbox, k.pending];
  }
}

function checkConsecutive(frames: readonly LoggedFrame[]): void {
  if (frames.length === 0) throw new RangeError('appendNumbered needs at least one frame');
  frames.forEach((f, i) => {
    if (f.id !== frames[0]!.id + i) throw new RangeError(`frame ids must be consecutive: ${frames.map((g) => g.id).join(',')}`);
  });
}

function appendResult(reply: unknown): AppendNumberedResult {
  const r = replyArray(reply, 'appendNumbered');
  const outcome = replyText(r[0], 'appendNumbered') as AppendNumberedResult['outcome'];
  return outcome === 'gone' ? { outcome } : { outcome, nextId: replyInt(r[1], 'appendNumbered') };
}

function positiveInt(value: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer: ${value}`);
  return String(value);
}

function nonNegativeInt(value: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer: ${value}`);
  return String(value);
}
