import type { RecordedFrame } from '../session-journal';
import type { ClientFrameLog } from './client-frame-log';

/**
 * Marks client frames done in Redis once their handlers are (RedisJournal.handled): the marks of one session in one
 * turn go as one write. The session reports a request only once its reply is durable in its log; a reply handed over
 * (the session was let go meanwhile) must be in the inbox first, or the mark is left out and the next holder runs the
 * frame again, flagged `redelivered`, rather than lose its reply. Marks go out at once otherwise: every mark still
 * on its way when the session moves is a frame run twice.
 */
export class DoneMarks {
  private readonly queued = new Map<string, number[]>();

  constructor(
    private readonly log: ClientFrameLog,
    /** The writes a mark must follow, and succeed (a hand-over of what the handlers sent). */
    private readonly writesBefore: (sid: string) => (Promise<void> | undefined)[],
    /** Chains `op` after the previous write under `key` (RedisJournal's per-key order). */
    private readonly write: (key: string, op: () => Promise<unknown>) => void,
    private readonly onError: (sid: string, err: unknown) => void,
  ) {}

  add(sid: string, seq: number): void {
    const queued = this.queued.get(sid);
    if (queued) {
      queued.push(seq);
      return;
    }
    this.queued.set(sid, [seq]);
    queueMicrotask(() => this.flush(sid));
  }

  private flush(sid: string): void {
    const seqs = this.queued.get(sid);
    this.queued.delete(sid);
    if (!seqs) return;
    const before = this.writesBefore(sid);
    this.write(`done:${sid}`, async () => {
      for (const p of before) if (p && !(await p.then(() => true, () => false))) return;
      // A mark that fails costs a redelivery, never the session: its chain must not stay failed.
      await this.log.done(sid, seqs).catch((err: unknown) => this.onError(sid, err));
    });
  }
}

/** Records as `ClientFrameLog.unfinished` reads them, as frames; an unreadable one is skipped and reported. */
export function parseRecords(records: readonly { seq: number; text: string }[], onBad: (seq: number) => void): RecordedFrame[] {
  const frames: RecordedFrame[] = [];
  for (const { seq, text } of records) {
    try {
      const v = JSON.parse(text) as { t?: unknown; e?: unknown; d?: unknown };
      if ((v.t === 'emit' || v.t === 'req') && typeof v.e === 'string') {
        frames.push(v.d === undefined ? { seq, t: v.t, e: v.e } : { seq, t: v.t, e: v.e, d: v.d });
        continue;
      }
    } catch {
      // reported below
    }
    onBad(seq);
  }
  return frames;
}
