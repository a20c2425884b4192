// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPageSignals, type PageSignals, type PageSignalsHost } from '../../src/client/page-signals';

type State = 'connecting' | 'open' | 'idle';

/** A stand-in connector: what the page signals ask and what they made it do. */
function host(initial: { state?: State; inFlight?: boolean; retryPending?: boolean } = {}) {
  const did: string[] = [];
  const h = { state: initial.state ?? 'connecting', inFlight: initial.inFlight ?? false, retryPending: initial.retryPending ?? false };
  const api: PageSignalsHost = {
    connecting: () => h.state === 'connecting',
    open: () => h.state === 'open',
    inFlight: () => h.inFlight,
    retryPending: () => h.retryPending,
    cancelRetry: () => {
      h.retryPending = false;
      did.push('cancelRetry');
    },
    connectNow: () => did.push('connectNow'),
    checkSilence: () => did.push('checkSilence'),
    park: () => did.push('park'),
    unpark: () => did.push('unpark'),
  };
  return { h, did, api };
}

const watching: PageSignals[] = [];
function watch(api: PageSignalsHost): PageSignals {
  const page = createPageSignals(api);
  page.watch();
  watching.push(page);
  return page;
}
const pageEvent = (type: string, persisted: boolean) => Object.assign(new Event(type), { persisted });
const setOnline = (onLine: boolean) => vi.stubGlobal('navigator', { ...navigator, onLine });

afterEach(() => {
  watching.splice(0).forEach((page) => page.stop());
  vi.unstubAllGlobals();
});

describe('page signals: how the connector follows the page', () => {
  it('offline between attempts: the pending retry is held until online, which connects at once', () => {
    const { did, api } = host({ retryPending: true });
    watch(api);
    window.dispatchEvent(new Event('offline'));
    expect(did).toEqual(['cancelRetry']);
    window.dispatchEvent(new Event('online'));
    expect(did).toEqual(['cancelRetry', 'connectNow']);
  });

  it('offline while an attempt is in flight changes nothing: it fails on its own, and its retry waits then', () => {
    const { h, did, api } = host({ inFlight: true });
    const page = watch(api);
    window.dispatchEvent(new Event('offline'));
    expect(did).toEqual([]);
    setOnline(false);
    h.inFlight = false;
    expect(page.holdWhileOffline()).toBe(true); // the retry after its failure
    window.dispatchEvent(new Event('online'));
    expect(did).toEqual(['connectNow']);
  });

  it('a retry is held only while the browser says it is offline', () => {
    const { api } = host();
    const page = watch(api);
    expect(page.holdWhileOffline()).toBe(false);
    setOnline(false);
    expect(page.holdWhileOffline()).toBe(true);
  });

  it('online does nothing with no retry waiting, or when not connecting', () => {
    const idle = host({ state: 'open', retryPending: true });
    watch(idle.api);
    window.dispatchEvent(new Event('online'));
    expect(idle.did).toEqual([]);
    watching.splice(0).forEach((page) => page.stop());
    const quiet = host();
    watch(quiet.api);
    window.dispatchEvent(new Event('online'));
    expect(quiet.did).toEqual([]);
  });

  it('back from the background or a freeze: the connection is checked', () => {
    const { did, api } = host({ state: 'open' });
    watch(api);
    document.dispatchEvent(new Event('resume'));
    expect(did).toEqual(['checkSilence']);
  });

  it('into the back/forward cache and back: let go, then connect again at once; not when idle', () => {
    const { h, did, api } = host({ state: 'open' });
    watch(api);
    window.dispatchEvent(pageEvent('pageshow', true)); // not parked: nothing to take up again
    expect(did).toEqual([]);
    window.dispatchEvent(pageEvent('pagehide', true));
    window.dispatchEvent(pageEvent('pageshow', true));
    window.dispatchEvent(pageEvent('pageshow', true));
    expect(did).toEqual(['park', 'unpark']);
    h.state = 'idle';
    window.dispatchEvent(pageEvent('pagehide', true));
    expect(did).toEqual(['park', 'unpark']);
  });

  it('stop removes its listeners and forgets what it waited for', () => {
    const { did, api } = host({ state: 'open' });
    const page = watch(api);
    window.dispatchEvent(pageEvent('pagehide', true));
    page.stop();
    page.watch();
    window.dispatchEvent(pageEvent('pageshow', true)); // the parked page was forgotten with stop()
    page.stop();
    window.dispatchEvent(new Event('offline'));
    document.dispatchEvent(new Event('resume'));
    expect(did).toEqual(['park']);
  });
});
