import { isOnline, watchBrowserSignals } from './browser-signals';

/** What the page's signals act on: the connector's attempt loop. */
export interface PageSignalsHost {
  /** Connecting or reconnecting (not idle, open or closed). */
  connecting(): boolean;
  open(): boolean;
  /** A connection is opening or open. */
  inFlight(): boolean;
  /** A retry is scheduled. */
  retryPending(): boolean;
  cancelRetry(): void;
  /** Starts an attempt now. */
  connectNow(): void;
  /** Fails the open connection if it was silent for longer than its limit (the timers may not have run meanwhile). */
  checkSilence(): void;
  /** Lets go of every connection, keeping the session and the outbox (the back/forward cache). */
  park(): void;
  /** Connects again at once, after `park`. */
  unpark(): void;
}

/**
 * How the connector follows the page (browser-signals.ts says what happened): retries wait while the browser is
 * offline and go at once when it is back; a page back from the background or a freeze checks its connection; one
 * going into the back/forward cache lets go of its connections (an open socket or a pending fetch keeps a page out of
 * the cache, or gets it evicted) and connects again when it is shown.
 */
export interface PageSignals {
  /** Listens to the page from now on. */
  watch(): void;
  /** Stops listening and forgets what it was waiting for. */
  stop(): void;
  /** A retry is due: true when the browser says it is offline, and the retry waits for `online` instead. */
  holdWhileOffline(): boolean;
}

export function createPageSignals(host: PageSignalsHost): PageSignals {
  let waitingForOnline = false;
  /** In the back/forward cache: connections closed, to be reopened when the page is shown again. */
  let cached = false;
  let unwatch = (): void => {};
  const handlers = {
    online(): void {
      if ((!waitingForOnline && !host.retryPending()) || !host.connecting()) return;
      waitingForOnline = false;
      host.connectNow();
    },
    offline(): void {
      if (!host.connecting() || host.inFlight()) return; // an attempt in flight fails on its own; its retry then waits
      host.cancelRetry();
      waitingForOnline = true;
    },
    visible: () => host.checkSilence(),
    cached(): void {
      if (!host.connecting() && !host.open()) return;
      cached = true;
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
      unwatch();
      unwatch = () => {};
      waitingForOnline = false;
      cached = false;
    },
    holdWhileOffline() {
      if (isOnline()) return false;
      waitingForOnline = true;
      return true;
    },
  };
}
