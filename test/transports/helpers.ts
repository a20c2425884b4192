import type { ServerFrame, WelcomeFrame } from '../../src/protocol/frames';
import type { ScheduleFn, TransportConnectParams, TransportFailure } from '../../src/transports/transport';

/**
 * A schedule function that runs callbacks on real (short) timers but records every one, so a test can assert that
 * `close()` cancelled all that were still pending.
 */
export class RecordingSchedule {
  readonly delays: number[] = [];
  readonly pending = new Map<number, () => void>();
  cancelled = 0;
  private nextId = 1;

  /** `auto: false` keeps callbacks until {@link runPending} (to catch a transport between two polls). */
  constructor(private readonly auto = true) {}

  readonly schedule: ScheduleFn = (callback, delayMs) => {
    const id = this.nextId++;
    this.delays.push(delayMs);
    this.pending.set(id, callback);
    const timer = this.auto
      ? setTimeout(() => {
          this.pending.delete(id);
          callback();
        }, delayMs)
      : undefined;
    return () => {
      if (this.pending.delete(id)) {
        clearTimeout(timer);
        this.cancelled++;
      }
    };
  };

  runPending(): void {
    const callbacks = [...this.pending.values()];
    this.pending.clear();
    for (const cb of callbacks) cb();
  }
}

/** Records what a transport reports and lets a test wait for it. */
export class Recorder {
  readonly frames: ServerFrame[] = [];
  readonly failures: TransportFailure[] = [];
  /** Runs after each frame is recorded (e.g. to close the transport from inside a callback). */
  onFrameHook: ((frame: ServerFrame) => void) | undefined;

  readonly handlers = {
    onFrame: (frame: ServerFrame): void => {
      this.frames.push(frame);
      this.onFrameHook?.(frame);
    },
    onFailure: (failure: TransportFailure): void => {
      this.failures.push(failure);
    },
  };

  types(): string[] {
    return this.frames.map((f) => f.t);
  }
}

export function params(
  url: string,
  recorder: Recorder,
  schedule: RecordingSchedule,
  extra: Partial<TransportConnectParams> = {},
): TransportConnectParams {
  return {
    url,
    query: { v: '1' },
    hidden: {},
    headers: {},
    withCredentials: false,
    schedule: schedule.schedule,
    now: () => Date.now(),
    checkBuffering: true,
    handlers: recorder.handlers,
    ...extra,
  };
}

export function welcome(over: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return { t: 'welcome', sid: 'S1', secret: 'K1', cid: 'C1', hb: 25_000, resumed: false, ack: 0, maxFrame: 65_536, ...over };
}

/** Polls `check` every few ms until it is true; fails after `timeoutMs`. Bounded, no fixed sleeps in assertions. */
export async function until(check: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets pending I/O callbacks run (used to show that nothing more arrives). */
export const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));
