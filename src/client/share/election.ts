/** The part of `navigator.locks` used here (a fake in unit tests). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal; ifAvailable?: boolean }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

/** What the election tells its tab. */
export interface ElectionHandlers {
  /** This tab holds the lock: it leads from now until `follow`. */
  lead(): void;
  /** This tab gave the lock up (and lines up again). */
  follow(): void;
}

/** Leadership of a group of tabs: the holder of one Web Lock, and nothing else (no timer decides). */
export interface Election {
  readonly leading: boolean;
  /** Gives the lock to the next tab in line; this tab lines up again behind it. */
  release(): void;
  /** Leaves: gives the lock up or leaves the line, for good. */
  close(): void;
}

/**
 * Every tab asks for the lock `name` and waits in the browser's queue; the browser grants it to one at a time and
 * passes it on when the holder releases it, closes, crashes or navigates. The holder keeps it by not settling the
 * promise its callback returned. Nothing takes the lock from its holder (no `steal`): a tab leads only while it holds
 * it, so two tabs never both run a connection.
 */
export function createElection(locks: LockManagerLike, name: string, handlers: ElectionHandlers): Election {
  let closed = false;
  /** Ends the current grant (resolves the promise that holds the lock). */
  let letGo: (() => void) | null = null;
  /** Leaves the queue (the request not granted yet). */
  let queued: AbortController | null = null;

  const ask = (): void => {
    const controller = new AbortController();
    queued = controller;
    locks
      .request(name, { signal: controller.signal }, () => {
        if (queued === controller) queued = null;
        if (closed) return Promise.resolve();
        return new Promise<void>((resolve) => {
          letGo = resolve;
          handlers.lead();
        });
      })
      .catch(() => {}); // a queued request aborted (release or close)
  };

  ask();
  return {
    get leading() {
      return letGo !== null;
    },
    release() {
      const held = letGo;
      if (!held) return;
      letGo = null;
      handlers.follow();
      if (!closed) ask(); // behind every tab already waiting
      held();
    },
    close() {
      closed = true;
      queued?.abort();
      queued = null;
      const held = letGo;
      letGo = null;
      held?.();
    },
  };
}
