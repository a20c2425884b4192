// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi, type Mock } from 'vitest';
import { isOnline, watchBrowserSignals, type BrowserSignalHandlers } from '../../src/client/browser-signals';

function handlers(): { [K in keyof BrowserSignalHandlers]: Mock<() => void> } {
  const fn = () => vi.fn<() => void>();
  return { online: fn(), offline: fn(), visible: fn(), cached: fn(), restored: fn() };
}

function setVisibility(state: DocumentVisibilityState): void {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
}

const stops: (() => void)[] = [];
function watch(h: BrowserSignalHandlers): () => void {
  const stop = watchBrowserSignals(h);
  stops.push(stop);
  return stop;
}

afterEach(() => {
  stops.splice(0).forEach((stop) => stop());
  delete (document as { visibilityState?: unknown }).visibilityState; // back to the prototype's getter
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('watchBrowserSignals', () => {
  it('calls online and offline on the window events', () => {
    const h = handlers();
    watch(h);
    window.dispatchEvent(new Event('offline'));
    expect(h.offline).toHaveBeenCalledTimes(1);
    expect(h.online).not.toHaveBeenCalled();
    window.dispatchEvent(new Event('online'));
    expect(h.online).toHaveBeenCalledTimes(1);
    expect(h.visible).not.toHaveBeenCalled();
  });

  it('calls visible when the document becomes visible, not when it is hidden', () => {
    const h = handlers();
    watch(h);
    setVisibility('hidden');
    document.dispatchEvent(new Event('visibilitychange'));
    expect(h.visible).not.toHaveBeenCalled();
    setVisibility('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    expect(h.visible).toHaveBeenCalledTimes(1);
    expect(h.online).not.toHaveBeenCalled();
    expect(h.offline).not.toHaveBeenCalled();
  });

  it('calls visible on Page Lifecycle resume (after a freeze)', () => {
    const h = handlers();
    watch(h);
    document.dispatchEvent(new Event('freeze'));
    expect(h.visible).not.toHaveBeenCalled();
    document.dispatchEvent(new Event('resume'));
    expect(h.visible).toHaveBeenCalledTimes(1);
  });

  it('calls cached and restored for the back/forward cache only, not for an unload or a first show', () => {
    const h = handlers();
    watch(h);
    const pageEvent = (type: string, persisted: boolean) => Object.assign(new Event(type), { persisted });
    window.dispatchEvent(pageEvent('pageshow', false));
    window.dispatchEvent(pageEvent('pagehide', false));
    expect(h.cached).not.toHaveBeenCalled();
    expect(h.restored).not.toHaveBeenCalled();
    window.dispatchEvent(pageEvent('pagehide', true));
    expect(h.cached).toHaveBeenCalledTimes(1);
    window.dispatchEvent(pageEvent('pageshow', true));
    expect(h.restored).toHaveBeenCalledTimes(1);
  });

  it('the returned function removes every listener; later events do nothing', () => {
    const h = handlers();
    const stop = watch(h);
    stop();
    setVisibility('visible');
    window.dispatchEvent(new Event('online'));
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }));
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    document.dispatchEvent(new Event('visibilitychange'));
    document.dispatchEvent(new Event('resume'));
    for (const handler of Object.values(h)) expect(handler).not.toHaveBeenCalled();
  });

  it('removes exactly the listeners it added, and stopping twice is safe', () => {
    const winAdd = vi.spyOn(window, 'addEventListener');
    const winRemove = vi.spyOn(window, 'removeEventListener');
    const docAdd = vi.spyOn(document, 'addEventListener');
    const docRemove = vi.spyOn(document, 'removeEventListener');
    const stop = watch(handlers());
    expect(winAdd.mock.calls.map((c) => c[0]).sort()).toEqual(['offline', 'online', 'pagehide', 'pageshow']);
    expect(docAdd.mock.calls.map((c) => c[0])).toEqual(['visibilitychange', 'resume']);
    stop();
    stop();
    expect(winRemove.mock.calls.map((c) => [c[0], c[1]]).sort()).toEqual(winAdd.mock.calls.map((c) => [c[0], c[1]]).sort());
    expect(docRemove.mock.calls.map((c) => [c[0], c[1]])).toEqual(docAdd.mock.calls.map((c) => [c[0], c[1]]));
  });

  it('stopping one watcher leaves another working', () => {
    const a = handlers();
    const b = handlers();
    const stopA = watch(a);
    watch(b);
    stopA();
    window.dispatchEvent(new Event('online'));
    expect(a.online).not.toHaveBeenCalled();
    expect(b.online).toHaveBeenCalledTimes(1);
  });
});

describe('isOnline', () => {
  it('follows navigator.onLine', () => {
    const onLine = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    expect(isOnline()).toBe(false);
    onLine.mockReturnValue(true);
    expect(isOnline()).toBe(true);
  });

  it('follows navigator.onLine stubbed with Object.defineProperty', () => {
    Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false });
    try {
      expect(isOnline()).toBe(false);
    } finally {
      delete (navigator as { onLine?: unknown }).onLine;
    }
    expect(isOnline()).toBe(navigator.onLine);
  });

  it('counts an environment without navigator or without onLine as online', () => {
    vi.stubGlobal('navigator', {});
    expect(isOnline()).toBe(true);
    vi.stubGlobal('navigator', undefined);
    expect(isOnline()).toBe(true);
  });
});
