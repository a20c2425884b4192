/** The part of `navigator.locks` used here (a fake in unit tests). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal; steal?: boolean }, callback: () => Promise<void>): Promise<unknown>;
}

/** What the election tells its tab. */
export interface ElectionHandlers {
  /** This tab holds the lock: it leads from now until `follow`. */
  lead(): void;
  /** This tab lost the lock (taken by a tab it handed over to) or gave it up. */
  follow(): void;
}

/** Leadership of a group of tabs: the holder of one Web Lock, and nothing else (no timer decides). */
export interface Election {
  readonly leading: boolean;
  /** Takes the lock from a leader that offered it (it stopped its connection first), instead of waiting in line. */
  steal(): void;
  /** Gives the lock to the next tab in line; this tab lines up again behind it. */
  release(): void;
  /** Leaves: gives the lock up or leaves the line, for good. */
  close(): void;
}

/**
 * Every tab asks for the lock `name` and waits in the browser's queue; the browser grants it to one at a time and
 * passes it on when the holder releases it, closes, crashes or navigates. The holder keeps it by not settling the
 * promise its callback returned. A `steal` (used only when the leader hands over, after stopping its connection)
 * rejects the old holder's request, which makes it follow: there is never a moment when two tabs both think they lead
 * and both run a connection.
 */
export function createElection(locks: LockManagerLike, name: string, handlers: ElectionHandlers): Election {
  let closed = false;
  /** Ends the current grant (resolves the promise that holds the lock). */
  let letGo: (() => void) | null = null;
  /** Leaves the queue (the request not granted yet). */
  let queued: AbortController | null = null;

  const ask = (steal: boolean): void => {
    const controller = new AbortController();
    if (!steal) queued = controller;
    let grant: (() => void) | null = null;
    const ended = (): void => {
      if (grant === null || letGo !== grant) return;
      letGo = null;
      handlers.follow();
      if (!closed) ask(false);
    };
    locks
      .request(name, steal ? { steal: true } : { signal: controller.signal }, () => {
        if (queued === controller) queued = null;
        if (closed) return Promise.resolve();
        return new Promise<void>((resolve) => {
          grant = resolve;
          letGo = resolve;
          handlers.lead();
        });
      })
      // Settles when the grant is let go (resolved) or taken (AbortError); a queued request aborted rejects too.
      .then(ended, ended);
  };

  ask(false);
  return {
    get leading() {
      return letGo !== null;
    },
    steal() {
      if (closed || letGo) return;
      queued?.abort();
      queued = null;
      ask(true);
    },
    release() {
      const held = letGo;
      if (!held) return;
      letGo = null;
      held();
      handlers.follow();
      if (!closed) ask(false);
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
