import type { AppendNumberedResult, ReplayLimits, ReplayLog, SessionWrite, SessionWriteResult } from './replay-log';

/** Writes per script call at most: a node holding many sessions still sends bounded commands. */
const MAX_WRITES = 500;

type Append = Extract<SessionWrite, { kind: 'append' }>;

/**
 * Group commit: the writes every session issues in one turn (a broadcast reaching all the sessions of a node, the
 * acks that come back) go to Redis as one `writeMany` instead of one script call each. Each keeps its own result.
 */
export class WriteGroup {
  private queued: { write: SessionWrite; resolve: (r: SessionWriteResult) => void; reject: (err: unknown) => void }[] = [];

  constructor(
    private readonly log: ReplayLog,
    private readonly limits: ReplayLimits,
  ) {}

  append(write: Omit<Append, 'kind'>): Promise<AppendNumberedResult> {
    return this.add({ kind: 'append', ...write }) as Promise<AppendNumberedResult>;
  }

  /** The new cumulative ack, or -1 when the session is gone. */
  async ack(sid: string, id: number): Promise<number> {
    const r = await this.add({ kind: 'ack', sid, id });
    return r.outcome === 'acked' ? r.acked : -1;
  }

  private add(write: SessionWrite): Promise<SessionWriteResult> {
    return new Promise((resolve, reject) => {
      this.queued.push({ write, resolve, reject });
      if (this.queued.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    for (let i = 0; i < queued.length; i += MAX_WRITES) {
      const chunk = queued.slice(i, i + MAX_WRITES);
      this.log.writeMany(chunk.map((q) => q.write), this.limits).then(
        (results) => chunk.forEach((q, k) => q.resolve(results[k]!)),
        (err: unknown) => chunk.forEach((q) => q.reject(err)),
      );
    }
  }
}
