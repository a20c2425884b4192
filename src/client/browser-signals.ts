/** What the client wants to hear from the page: connectivity, visibility, and what the browser does to the page. */
export interface BrowserSignalHandlers {
  online(): void;
  offline(): void;
  /** The page became visible, or resumed after being frozen (Page Lifecycle `resume`): check the connection. */
  visible(): void;
  /** The page goes into the back/forward cache (`pagehide` with `persisted`): let go of the connection. */
  cached(): void;
  /** The page came back from the back/forward cache (`pageshow` with `persisted`): connect again at once. */
  restored(): void;
}

type Target = { addEventListener(type: string, fn: () => void): void; removeEventListener(type: string, fn: () => void): void };

/** False only when the browser says it is offline; environments without `navigator.onLine` count as online. */
export function isOnline(): boolean {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return nav?.onLine !== false;
}

/**
 * Subscribes to `online`/`offline`/`pagehide`/`pageshow` on the window and `visibilitychange`/`resume` on the
 * document; returns the unsubscriber.
 */
export function watchBrowserSignals(handlers: BrowserSignalHandlers): () => void {
  const g = globalThis as { addEventListener?: Target['addEventListener']; removeEventListener?: Target['removeEventListener']; document?: Target & { visibilityState?: string } };
  const offs: (() => void)[] = [];
  if (typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function') {
    const win = g as Target;
    const listeners: Record<string, (event?: { persisted?: boolean }) => void> = {
      online: () => handlers.online(),
      offline: () => handlers.offline(),
      // Not persisted: the page is being unloaded, and everything goes with it.
      pagehide: (event) => event?.persisted && handlers.cached(),
      pageshow: (event) => event?.persisted && handlers.restored(),
    };
    for (const [type, fn] of Object.entries(listeners)) win.addEventListener(type, fn);
    offs.push(() => {
      for (const [type, fn] of Object.entries(listeners)) win.removeEventListener(type, fn);
    });
  }
  const doc = g.document;
  if (doc && typeof doc.addEventListener === 'function') {
    const visibility = (): void => {
      if (doc.visibilityState === 'visible') handlers.visible();
    };
    const resumed = (): void => handlers.visible();
    doc.addEventListener('visibilitychange', visibility);
    doc.addEventListener('resume', resumed);
    offs.push(() => {
      doc.removeEventListener('visibilitychange', visibility);
      doc.removeEventListener('resume', resumed);
    });
  }
  return () => offs.splice(0).forEach((off) => off());
}
