// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi, type Mock } from 'vitest';
import { isOnline, watchBrowserSignals, type BrowserSignalHandlers } from '../../src/client/browser-signals';

function handlers(): { [K in keyof BrowserSignalHandlers]: Mock<() => void> } {
  return { online: vi.fn<() => void>(), offline: vi.fn<() => void>(), visible: vi.fn<() => void>() };
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

  it('the returned function removes every listener; later events do nothing', () => {
    const h = handlers();
    const stop = watch(h);
    stop();
    setVisibility('visible');
    window.dispatchEvent(new Event('online'));
    window.dispatchEvent(new Event('offline'));
    document.dispatchEvent(new Event('visibilitychange'));
    expect(h.online).not.toHaveBeenCalled();
    expect(h.offline).not.toHaveBeenCalled();
    expect(h.visible).not.toHaveBeenCalled();
  });

  it('removes exactly the listeners it added, and stopping twice is safe', () => {
    const winAdd = vi.spyOn(window, 'addEventListener');
    const winRemove = vi.spyOn(window, 'removeEventListener');
    const docAdd = vi.spyOn(document, 'addEventListener');
    const docRemove = vi.spyOn(document, 'removeEventListener');
    const stop = watch(handlers());
    expect(winAdd.mock.calls.map((c) => c[0]).sort()).toEqual(['offline', 'online']);
    expect(docAdd.mock.calls.map((c) => c[0])).toEqual(['visibilitychange']);
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
