import type { ResolvedOptions } from './options';

/** How often, within `slowReaderMs`, a connection over the limit is looked at again. */
const SAMPLES_PER_WINDOW = 4;

/**
 * Tells a slow reader from a large message (docs/failure-behaviour.md, "Server limits and their defaults"). A connection is cut when what is queued for it has
 * stayed above `maxBufferedBytes` for `slowReaderMs`: at every write, at every drain of its socket and a few times
 * per window it is looked at, and one look at or under the limit starts the wait over. Above `hardBufferedBytes` it
 * is cut at once, so memory stays bounded whatever the window. A timer runs only while a connection is over the limit.
 */
export class SlowReaderGuard {
  /** Queued bytes allowed on top of both bounds (what a resume's welcome and replay queued at once). */
  allowance = 0;
  private overSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly opts: Pick<ResolvedOptions, 'maxBufferedBytes' | 'hardBufferedBytes' | 'slowReaderMs'>,
    /** Bytes queued for the client now. */
    private readonly buffered: () => number,
    /** Cuts the connection; told why and the figures to log. */
    private readonly cut: (why: 'slow' | 'hard', meta: Record<string, number>) => void,
  ) {}

  /** After a write or a drain. */
  check(): void {
    if (this.done) return;
    const bytes = this.buffered();
    if (bytes > this.opts.hardBufferedBytes + this.allowance) return this.trip('hard', bytes);
    if (bytes <= this.opts.maxBufferedBytes + this.allowance) return this.reset();
    if (this.overSince !== undefined) return;
    this.overSince = Date.now();
    this.timer = setInterval(() => this.sample(), this.opts.slowReaderMs / SAMPLES_PER_WINDOW);
    this.timer.unref();
  }

  dispose(): void {
    this.done = true;
    this.reset();
  }

  private sample(): void {
    const bytes = this.buffered();
    if (bytes <= this.opts.maxBufferedBytes + this.allowance) return this.reset();
    if (Date.now() - this.overSince! >= this.opts.slowReaderMs) this.trip('slow', bytes);
  }

  private trip(why: 'slow' | 'hard', bytes: number): void {
    const overMs = this.overSince === undefined ? 0 : Date.now() - this.overSince;
    const limit = (why === 'hard' ? this.opts.hardBufferedBytes : this.opts.maxBufferedBytes) + this.allowance;
    this.dispose();
    this.cut(why, { bufferedBytes: bytes, limit, overMs });
  }

  private reset(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.overSince = undefined;
  }
}
