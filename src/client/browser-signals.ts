/** What the client wants to hear from the page: connectivity and visibility changes. */
export interface BrowserSignalHandlers {
  online(): void;
  offline(): void;
  visible(): void;
}

type Target = { addEventListener(type: string, fn: () => void): void; removeEventListener(type: string, fn: () => void): void };

/** False only when the browser says it is offline; environments without `navigator.onLine` count as online. */
export function isOnline(): boolean {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return nav?.onLine !== false;
}

/** Subscribes to `online`/`offline` on the window and `visibilitychange` on the document; returns the unsubscriber. */
export function watchBrowserSignals(handlers: BrowserSignalHandlers): () => void {
  const g = globalThis as { addEventListener?: Target['addEventListener']; removeEventListener?: Target['removeEventListener']; document?: Target & { visibilityState?: string } };
  const offs: (() => void)[] = [];
  if (typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function') {
    const win = g as Target;
    const online = (): void => handlers.online();
    const offline = (): void => handlers.offline();
    win.addEventListener('online', online);
    win.addEventListener('offline', offline);
    offs.push(() => {
      win.removeEventListener('online', online);
      win.removeEventListener('offline', offline);
    });
  }
  const doc = g.document;
  if (doc && typeof doc.addEventListener === 'function') {
    const visibility = (): void => {
      if (doc.visibilityState === 'visible') handlers.visible();
    };
    doc.addEventListener('visibilitychange', visibility);
    offs.push(() => doc.removeEventListener('visibilitychange', visibility));
  }
  return () => offs.splice(0).forEach((off) => off());
}
