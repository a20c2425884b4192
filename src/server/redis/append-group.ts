import type { AppendNumberedResult, NumberedAppend, ReplayLimits, SessionLog } from './session-log';

/** Sessions per script call at most: a node holding many sessions still sends bounded commands. */
const MAX_SESSIONS = 500;

/**
 * Group commit: the appends of every session issued in one turn (a broadcast reaching all the sessions of a node)
 * go to Redis as one `appendNumberedMany` instead of one script call each. Each session's result is its own.
 */
export class AppendGroup {
  private queued: { append: NumberedAppend; resolve: (r: AppendNumberedResult) => void; reject: (err: unknown) => void }[] = [];

  constructor(
    private readonly log: SessionLog,
    private readonly limits: ReplayLimits,
  ) {}

  append(append: NumberedAppend): Promise<AppendNumberedResult> {
    return new Promise((resolve, reject) => {
      this.queued.push({ append, resolve, reject });
      if (this.queued.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    for (let i = 0; i < queued.length; i += MAX_SESSIONS) {
      const chunk = queued.slice(i, i + MAX_SESSIONS);
      this.log.appendNumberedMany(chunk.map((q) => q.append), this.limits).then(
        (results) => chunk.forEach((q, k) => q.resolve(results[k]!)),
        (err: unknown) => chunk.forEach((q) => q.reject(err)),
      );
    }
  }
}
