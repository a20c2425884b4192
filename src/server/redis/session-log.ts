import { DEFAULT_KEY_PREFIX, sessionKeys, type SessionKeys } from './keys';
import { nonNegativeInt, positiveInt, replyArray, replyInt, replyText, type RedisCommands } from './redis-commands';
import { createScript, endIfIdleScript, rekeyScript, endScript, pushScript, joinScript, leaveScript, setOwnerScript, touchScript } from './session-log-scripts';
import { ClientFrameLog } from './client-frame-log';
import { ReplayLog } from './replay-log';

export interface SessionLogOptions {
  /** Prepended to every key. Default `rf:`. */
  keyPrefix?: string;
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

export interface Owner {
  nodeId: string;
  cid: string;
}

/** `previous`: the connection replaced, which its node should close with `replaced`. */
export type SetOwnerResult = { ok: true; previous: Owner | null } | { ok: false };

const STATE_FIELDS = ['secret', 'auth', 'nextId', 'acked', 'accepted', 'bytes', 'firstId', 'owner', 'cid', 'ended', 'bus', 'prev'] as const;

/**
 * The per-session state of the Redis adapter, written as it changes so any node can carry on a
 * session another node held. Every method is one round trip (a script's first use after a Redis restart costs one
 * more). Keys of a session (all tagged `{sid}`, all expiring together):
 *
 * - `rf:{sid}:state` HASH: secret, auth, nextId, acked, accepted, bytes, firstId, owner, cid, ended, bus (position),
 *   prev (the previous secret, see `rekey`).
 * - `rf:{sid}:out` LIST: the JSON of the frames not yet acknowledged, oldest first (frame firstId at index 0).
 * - `rf:{sid}:rooms` SET of room names (fan-out itself reads membership from the nodes' memory, see StreamBus).
 *
 * - `rf:{sid}:inbox` LIST: events other nodes sent the session, for its holder to number (`push`, `readInbox`).
 *
 * The frames themselves are numbered by the node holding the session in memory and written through `replay`
 * (ReplayLog), bounded by the same two limits as ReplayBuffer. Nothing here refreshes a TTL except `touch` and the
 * optional `ttlMs` of setOwner: the lifetime policy is the caller's.
 */
export class SessionLog {
  private readonly prefix: string;
  /** Client frames' acceptance and their records until handled (redelivery after a node died). */
  readonly clientFrames: ClientFrameLog;
  /** The frames each client has not acknowledged yet (the `out` list and its positions). */
  readonly replay: ReplayLog;

  /** `redis`: an already connected client (node-redis's fits as it is). */
  constructor(
    private readonly redis: RedisCommands,
    options: SessionLogOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.clientFrames = new ClientFrameLog(redis, (sid) => this.keys(sid));
    this.replay = new ReplayLog(redis, (sid) => this.keys(sid));
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
