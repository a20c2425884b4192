import type { SessionKeys } from './keys';
import { nonNegativeInt, positiveInt, replyArray, replyInt, replyText, type RedisCommands } from './redis-commands';
import { readAfterScript, writeManyScript } from './replay-log-scripts';
import type { FrameTemplate } from '../session-journal';

/** The replay bounds of one session, the same two as ReplayBuffer's (`replayBufferMaxMessages` / `MaxBytes`). */
export interface ReplayLimits {
  maxMessages: number;
  maxBytes: number;
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

/**
 * One write of `writeMany`. An append logs frames their holder numbered in memory (`frames[0].id` must be nextId + 1,
 * the rest consecutive); with `cid`, only while that connection holds the session, so a node that lost the session
 * cannot write into it. `drained`: how many inbox entries these frames number, removed from the inbox in the same
 * step. `busPosition`: recorded with the frames (the bus events they number are then taken). An ack: the client has
 * every frame with `id <= id`; they are trimmed.
 */
export type SessionWrite =
  | { kind: 'append'; sid: string; frames: readonly LoggedFrame[]; cid?: string | undefined; drained?: number; busPosition?: string | undefined }
  | { kind: 'ack'; sid: string; id: number };

/** `acked`: the new cumulative ack, never past the last id assigned, never backwards (-1: the session is gone). */
export type SessionWriteResult = AppendNumberedResult | { outcome: 'acked'; acked: number };

/**
 * The frames of each session its client has not acknowledged (the `out` list of SessionLog's keys) and the positions
 * that describe them. Bounded per session by the same two limits as ReplayBuffer. Every method is one round trip.
 */
export class ReplayLog {
  constructor(
    private readonly redis: RedisCommands,
    private readonly keys: (sid: string) => SessionKeys,
  ) {}

  /**
   * Appends and acks of several sessions in one round trip, in order, each all or nothing on its own. A template
   * shared by several frames crosses the wire once.
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
