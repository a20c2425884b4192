import type { SequencedFrame } from '../protocol/frames';
import type { SessionSecrets } from './session-secret';

/** A frame text written as `prefix + id + suffix`, one object shared by the frames of every session it reaches. */
export interface FrameTemplate {
  prefix: string;
  suffix: string;
}

/** A session as written down: enough for another process (or this one after a restart) to carry it on. */
export interface SessionSnapshot {
  id: string;
  secret: string;
  /** The secret `secret` replaced at the last resume, while the client has not presented `secret` yet. */
  previousSecret?: string;
  /** What `authenticate` returned when the session was created (JSON). */
  auth: unknown;
  /** Highest server frame id assigned so far (0: none). */
  lastId: number;
  /** Highest client `seq` accepted. */
  accepted: number;
  /** Highest server frame id no longer held (acknowledged, or dropped over the replay limits). */
  floor: number;
  /** The held frames, ids `floor + 1 … lastId`, in order. */
  frames: { frame: SequencedFrame; text: string }[];
  rooms: string[];
  /** With a bus that has positions: where the session has taken fanned-out events up to (they are in `frames`). */
  busPosition?: string;
}

/** A client `emit`/`req` frame as recorded with its acceptance, for a process that runs it again (`unfinished`). */
export interface RecordedFrame {
  seq: number;
  t: 'emit' | 'req';
  e: string;
  d?: unknown;
}

/**
 * Where a session writes each change as it happens, so it survives its process (docs/design/scale-out.md). The
 * session calls these without waiting; `durable()` says when everything written so far is safe, and nothing the
 * client can see (a frame, an ack) is let out before that. Without a journal (one process, memory only) sessions
 * behave as they always did.
 */
export interface SessionJournal {
  created(snapshot: Pick<SessionSnapshot, 'id' | 'secret' | 'auth' | 'busPosition'>): void;
  /**
   * `fannedOut`: the frame is an event from the bus, its text the template's prefix, the frame id and its suffix (one
   * template for every session it reaches, so a journal can write it once). Such frames are never handed over:
   * whoever carries the session next reads them from the bus.
   */
  appended(sid: string, frame: SequencedFrame, text: string, fannedOut?: FrameTemplate): void;
  acked(sid: string, id: number): void;
  /**
   * Records client frame `seq` as accepted. Resolves true when recorded by this call, false when the store already had
   * it (another process accepted it first: it must not run here); rejects when the record failed. With `frame`, a
   * store shared by processes keeps the frame until `handled(sid, seq)`, for `unfinished`.
   */
  accepted(sid: string, seq: number, frame?: RecordedFrame): Promise<boolean>;
  /**
   * The handler of client frame `seq` is done (a request: its reply was sent): once what it sent is durable, its
   * record goes, and no process runs it again.
   */
  handled?(sid: string, seq: number): void;
  /**
   * The frames recorded with their acceptance whose handlers were never marked done (their holder died or let the
   * session go first), in seq order; read after every write issued so far (this process's claim included).
   */
  unfinished?(sid: string): Promise<RecordedFrame[]>;
  joined(sid: string, room: string): void;
  /**
   * The session's secrets are now `secrets`: a resume rotated them, presenting the current one retired the previous,
   * or (unchanged) a resume relies on them. A store shared by processes writes this only while its current secret is
   * still `expected` and fails otherwise (another process resumed the session first: its copy wins, this one is let
   * go), so no welcome leaves with a secret the store would not take.
   */
  rekeyed(sid: string, expected: string, secrets: SessionSecrets): void;
  left(sid: string, room: string): void;
  /**
   * Connection `cid` of this process now holds the session (it claims it: another process holding a copy is told to
   * let it go), or, with null, none does (it may expire after the grace period).
   */
  held(sid: string, cid: string | null): void;
  ended(sid: string): void;
  /**
   * The grace period ran out here, `cid` being the last connection this process held it with: ends the session unless
   * a connection attached since (elsewhere). True when it ended here; false: someone else carries it on.
   */
  expire(sid: string, cid: string): Promise<boolean>;
  /** The last `count` frames appended for `sid` number inbox entries: they leave the inbox when those frames are durable. */
  drained(sid: string, count: number): void;
  /**
   * A frame this process can no longer number (it let the session go, say a handler answered after a shutdown began):
   * handed to whoever carries the session next, through its inbox.
   */
  handOver(sid: string, frame: SequencedFrame): void;
  /** Up to `count` events other processes sent the session, oldest first (JSON of unnumbered `msg`/`reply` frames). */
  readInbox(sid: string, count: number): Promise<string[]>;
  /**
   * With a bus that has positions: where to read how far along the bus a session is (its `busPosition`), recorded
   * with each of its writes. Called once by the server.
   */
  readPositions?(positionOf: (sid: string) => string | undefined): void;
  /** This process let its copy of the session go (another carries it, or it will be restored): forget it here. */
  dropped?(sid: string): void;
  /** Resolves once every write issued so far for `sid` is durable; rejects if one failed. */
  durable(sid: string): Promise<void>;
  /**
   * A session that ended (on any process) while the store still keeps its record: what it accepted, and the secrets
   * that may learn it. Null when unknown or not ended.
   */
  loadEnded?(sid: string): Promise<{ accepted: number; secrets: SessionSecrets } | null>;
  /**
   * The session as last written, or null when it is unknown (never existed, expired, or the store lost it). With
   * `presented`, one of its secrets, this process first takes the session over: its previous holder writes no more.
   */
  load(sid: string, presented?: string): Promise<SessionSnapshot | null>;
}

/** A journal write refused because another process carries the session now: not a failure, a hand-over. */
export class SessionMovedError extends Error {
  constructor(sid: string, detail: string) {
    super(`session ${sid} is carried by another process now (${detail})`);
    this.name = 'SessionMovedError';
  }
}
