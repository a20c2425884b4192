import { isOnline, watchBrowserSignals } from './browser-signals';
import type { BackoffScheduler } from './scheduler';

/** What the page's signals act on: the connector's attempt loop. */
export interface PageSignalsHost {
  /** Connecting or reconnecting (not idle, open or closed). */
  connecting(): boolean;
  open(): boolean;
  /** A connection is opening or open. */
  inFlight(): boolean;
  /** Starts an attempt now. */
  connect(): void;
  /** Fails the open connection if it was silent for longer than its limit (the timers may not have run meanwhile). */
  checkSilence(): void;
  /** Lets go of every connection, keeping the session and the outbox (the back/forward cache). */
  park(): void;
  /** Connects again at once, after `park`. */
  unpark(): void;
}

/**
 * When the connector's next attempt starts, as the page allows (browser-signals.ts says what happens to it): the
 * retry timer, held while the browser is offline and let go at once when it is back; a check of the connection on the
 * way back from the background or a freeze (one turn later, once what arrived meanwhile is handled); and the
 * back/forward cache, which a page enters without its connections (an open socket or a pending fetch keeps it out, or
 * gets it evicted) and leaves connecting again.
 */
export interface PageSignals {
  /** Listens to the page from now on. */
  watch(): void;
  /** Stops listening, cancels the retry and forgets what it was waiting for. */
  stop(): void;
  /** Starts the next attempt in `delayMs`, or, while the browser says it is offline, once it is back online. */
  retryIn(delayMs: number): void;
  /** Cancels the retry (an attempt starts now, or none must). */
  cancelRetry(): void;
}

export function createPageSignals(scheduler: BackoffScheduler, host: PageSignalsHost): PageSignals {
  let cancel: (() => void) | null = null;
  let waitingForOnline = false;
  /** In the back/forward cache: connections closed, to be reopened when the page is shown again. */
  let cached = false;
  let unwatch = (): void => {};
  const cancelRetry = (): void => {
    cancel?.();
    cancel = null;
  };
  const handlers = {
    online(): void {
      if ((!waitingForOnline && cancel === null) || !host.connecting()) return;
      waitingForOnline = false;
      host.connect();
    },
    offline(): void {
      if (!host.connecting() || host.inFlight()) return; // an attempt in flight fails on its own; its retry then waits
      cancelRetry();
      waitingForOnline = true;
    },
    visible: () => void scheduler.schedule(host.checkSilence, 0),
    cached(): void {
      if (!host.connecting() && !host.open()) return;
      cached = true;
      cancelRetry();
      host.park();
    },
    restored(): void {
      if (!cached) return;
      cached = false;
      host.unpark();
    },
  };
  return {
    watch() {
      unwatch = watchBrowserSignals(handlers);
    },
    stop() {
      cancelRetry();
      unwatch();
      unwatch = () => {};
      waitingForOnline = false;
      cached = false;
    },
    retryIn(delayMs) {
      cancelRetry();
      if (!isOnline()) {
        waitingForOnline = true;
        return;
      }
      cancel = scheduler.schedule(() => {
        cancel = null;
        host.connect();
      }, delayMs);
    },
    cancelRetry,
  };
}
