// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPageSignals, type PageSignals, type PageSignalsHost } from '../../src/client/page-signals';
import { BackoffScheduler } from '../../src/client/scheduler';
import { steppedClock } from './stepped-clock';


type State = 'connecting' | 'open' | 'idle';

/** A stand-in connector: what the page signals ask, and what they made it do. */
function host(initial: { state?: State; inFlight?: boolean } = {}) {
  const did: string[] = [];
  const h = { state: initial.state ?? 'connecting', inFlight: initial.inFlight ?? false };
  const api: PageSignalsHost = {
    connecting: () => h.state === 'connecting',
    open: () => h.state === 'open',
    inFlight: () => h.inFlight,
    connect: () => did.push('connect'),
    checkSilence: () => did.push('checkSilence'),
    park: () => did.push('park'),
    unpark: () => did.push('unpark'),
  };
  return { h, did, api };
}

const watching: PageSignals[] = [];
const clock = steppedClock();
const scheduler = new BackoffScheduler({ initialMs: 1, maxMs: 1, factor: 1, jitter: 0 }, clock);
function watch(api: PageSignalsHost): PageSignals {
  const page = createPageSignals(scheduler, api);
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

describe('page signals: when the next attempt starts, as the page allows', () => {
  it('a retry starts when its delay is over; cancelled, it does not', () => {
    const { did, api } = host();
    const page = watch(api);
    page.retryIn(100);
    clock.runAll();
    expect(did).toEqual(['connect']);
    page.retryIn(100);
    page.cancelRetry();
    clock.runAll();
    expect(did).toEqual(['connect']);
  });

  it('offline between attempts: the pending retry is held until online, which connects at once', () => {
    const { did, api } = host();
    const page = watch(api);
    page.retryIn(100);
    window.dispatchEvent(new Event('offline'));
    clock.runAll();
    expect(did).toEqual([]);
    window.dispatchEvent(new Event('online'));
    expect(did).toEqual(['connect']);
  });

  it('a retry asked while the browser says it is offline waits for online', () => {
    const { did, api } = host();
    const page = watch(api);
    setOnline(false);
    page.retryIn(100);
    clock.runAll();
    expect(did).toEqual([]);
    window.dispatchEvent(new Event('online'));
    expect(did).toEqual(['connect']);
  });

  it('offline while an attempt is in flight changes nothing: it fails on its own, and its retry waits then', () => {
    const { h, did, api } = host({ inFlight: true });
    const page = watch(api);
    window.dispatchEvent(new Event('offline'));
    setOnline(false);
    h.inFlight = false;
    page.retryIn(100); // the retry after its failure
    clock.runAll();
    expect(did).toEqual([]);
    window.dispatchEvent(new Event('online'));
    expect(did).toEqual(['connect']);
  });

  it('online does nothing with no retry waiting, or when not connecting', () => {
    const quiet = host();
    watch(quiet.api);
    window.dispatchEvent(new Event('online'));
    expect(quiet.did).toEqual([]);
    watching.splice(0).forEach((page) => page.stop());
    const open = host({ state: 'open' });
    const page = watch(open.api);
    page.retryIn(100);
    window.dispatchEvent(new Event('online'));
    expect(open.did).toEqual([]);
    page.cancelRetry();
  });

  it('back from the background or a freeze: the connection is checked one turn later', () => {
    const { did, api } = host({ state: 'open' });
    watch(api);
    document.dispatchEvent(new Event('resume'));
    expect(did).toEqual([]);
    clock.runAll();
    expect(did).toEqual(['checkSilence']);
  });

  it('into the back/forward cache and back: let go (the retry too), then connect again at once; not when idle', () => {
    const { h, did, api } = host({ state: 'connecting' });
    const page = watch(api);
    window.dispatchEvent(pageEvent('pageshow', true)); // not parked: nothing to take up again
    expect(did).toEqual([]);
    page.retryIn(100);
    window.dispatchEvent(pageEvent('pagehide', true));
    clock.runAll();
    window.dispatchEvent(pageEvent('pageshow', true));
    window.dispatchEvent(pageEvent('pageshow', true));
    expect(did).toEqual(['park', 'unpark']);
    h.state = 'idle';
    window.dispatchEvent(pageEvent('pagehide', true));
    expect(did).toEqual(['park', 'unpark']);
  });

  it('stop cancels the retry, removes its listeners and forgets what it waited for', () => {
    const { did, api } = host({ state: 'open' });
    const page = watch(api);
    window.dispatchEvent(pageEvent('pagehide', true));
    page.retryIn(100);
    page.stop();
    clock.runAll();
    page.watch();
    window.dispatchEvent(pageEvent('pageshow', true)); // the parked page was forgotten with stop()
    page.stop();
    window.dispatchEvent(new Event('offline'));
    document.dispatchEvent(new Event('resume'));
    clock.runAll();
    expect(did).toEqual(['park']);
  });
});
