/**
 * What browsers do to pages, in real Chromium (DevTools gives the control these need; Firefox and WebKit have no such
 * switch): the back/forward cache, and a frozen page, which is also what a laptop's sleep looks like to a page: no
 * timer or event runs, the wall clock moves on, and what arrived meanwhile waits in the page's task queues.
 *
 * DevTools `Page.setWebLifecycleState({ state: 'frozen' })` does not freeze a page here: in Chromium 156, headless and
 * headful under Xvfb, driven by playwright-core, a page's 100 ms interval kept ticking through a "frozen" second and no
 * `freeze`/`resume` event fired (also after opening another tab in front and minimising the window: the page stayed
 * `visible`). So the freeze is made the other way a page stops running: its main thread blocked for the freeze's
 * length, then the `freeze`/`resume` events a real freeze sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium } from '../../support/chromium';
import { CLIENT_PAGE, inOrder, readLog, startCountingServer, streamNumbers, until, waitIn, type CountingServer } from './counting-server';

const TRANSPORTS = ['websocket', 'sse', 'polling'] as const;
/** Server heartbeat: a connection the page left without closing would be noticed only after this (or twice it). */
const HEARTBEAT_MS = 20_000;

let server: CountingServer;
let chromium: { context: BrowserContext; close(): Promise<void> };

beforeAll(async () => {
  server = await startCountingServer({
    pages: { '/app': CLIENT_PAGE, '/away': '<!doctype html><title>away</title>elsewhere' },
    heartbeatMs: HEARTBEAT_MS,
    onSession: streamNumbers(25),
  });
  chromium = await launchChromium({ backForwardCache: true });
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});


/**
 * Freezes the page's main thread for `ms` (see the top of the file); `during` runs meanwhile, in the test process.
 * Returns when, in the page's `performance.now()`, the freeze began.
 */
async function freeze(page: Page, ms: number, during: () => Promise<void> | void = () => {}): Promise<number> {
  const frozen = page.evaluate((ms) => {
    const frozeAt = performance.now();
    document.dispatchEvent(new Event('freeze'));
    const end = Date.now() + ms;
    while (Date.now() < end); // nothing else of the page runs: no timer, no message, no network event
    document.dispatchEvent(new Event('resume'));
    return frozeAt;
  }, ms);
  await during();
  return frozen;
}

async function openApp(transport: string, options: object = {}, on: CountingServer = server): Promise<{ page: Page; cdp: CDPSession }> {
  const page = await chromium.context.newPage();
  const cdp = await chromium.context.newCDPSession(page);
  await page.goto(`${on.origin}/app?t=${transport}&o=${encodeURIComponent(JSON.stringify(options))}`);
  return { page, cdp };
}

describe.each(TRANSPORTS)('Chromium: the back/forward cache, on %s', (transport) => {
  it('the page is cached with its connections closed cleanly, and resumes the session within 500 ms of coming back, nothing lost or repeated', async () => {
    const { page, cdp } = await openApp(transport);
    await cdp.send('Page.enable');
    const notRestored: unknown[] = [];
    cdp.on('Page.backForwardCacheNotUsed', (e) => notRestored.push(e.notRestoredExplanations));
    try {
      await waitIn(page, 'window.log.got.length >= 10');
      // Waited for, not read once: on polling no request is open between an answered poll and the next.
      await until('the page holds a connection', () => server.open > 0, 5_000);
      const sessions = server.sessions.length;

      await page.click('#away');
      await page.waitForURL(`${server.origin}/away`);
      // Closed by the page as it went into the cache, not noticed by a heartbeat (20 s, 40 s for polling) later.
      const leftAt = Date.now();
      await until('the cached page holds no connection', () => server.open === 0, 5_000);
      const closedWithinMs = Date.now() - leftAt;
      await new Promise((resolve) => setTimeout(resolve, 500)); // the server goes on sending meanwhile

      await page.goBack({ waitUntil: 'commit' }); // a restored page fires no load event
      await waitIn(page, 'window.log.shows.length >= 2', 5_000);
      const shows = (await readLog(page)).shows;
      expect(shows.at(-1)!.persisted, `not restored from the back/forward cache: ${JSON.stringify(notRestored)}`).toBe(true);

      await waitIn(page, `window.log.events.some((e) => e.type === 'open' && e.at > ${shows.at(-1)!.at})`);
      await waitIn(page, 'window.log.got.length >= 60'); // 500 ms in the cache at 40 messages a second, and more after
      const log = await readLog(page);
      const back = shows.at(-1)!.at;
      const reopened = log.events.find((e) => e.type === 'open' && e.at > back)!;
      expect(reopened.resumed).toBe(true);
      expect(reopened.at - back).toBeLessThan(500);
      expect(inOrder(log.got), `gap or repeat in ${log.got.join(',')}`).toBe(true);
      expect(log.events.filter((e) => e.type === 'resync')).toEqual([]);
      expect(server.sessions.length).toBe(sessions); // the same session, not a new one
      console.log(`${transport}: connections closed ${closedWithinMs} ms after leaving; open again ${Math.round(reopened.at - back)} ms after pageshow`);
    } finally {
      await page.close();
    }
  });
});

describe('Chromium: a frozen page (Page Lifecycle freeze, the clock jumping on), on each transport', () => {
  /** Heartbeats every second: a 3 s freeze is past the client's liveness limit (2.5 heartbeats) by the wall clock. */
  let fast: CountingServer;
  beforeAll(async () => {
    fast = await startCountingServer({ pages: { '/app': CLIENT_PAGE }, heartbeatMs: 1000, onSession: streamNumbers(25) });
  });
  afterAll(() => fast?.close());

  it.each(TRANSPORTS)('%s: frozen for 3 s (past its liveness limit) while messages arrive, it carries on with no gap, and no timer from before the freeze fails the connection', async (transport) => {
    const { page } = await openApp(transport, {}, fast);
    try {
      await waitIn(page, 'window.log.got.length >= 10');
      const frozeAt = await freeze(page, 3000);
      await waitIn(page, 'window.log.got.length >= 200'); // 3 s frozen at 40 a second, and more after
      await new Promise((resolve) => setTimeout(resolve, 1000)); // late timers of the old connection would fire by now
      const log = await readLog(page);
      expect(inOrder(log.got), `gap or repeat in ${log.got.join(',')}`).toBe(true);
      expect(log.events.filter((e) => e.type === 'resync')).toEqual([]);
      const failed = log.events.filter((e) => e.at >= frozeAt && e.type === 'transportFailed');
      if (transport === 'polling') {
        // The server ends a polling connection whose next poll has not come within two heartbeats (the frozen page
        // could not ask): its next poll is refused, and the client resumes the session on a new one, once.
        expect(failed.map((e) => e.reason), JSON.stringify(failed)).toHaveLength(1);
        expect(log.events.filter((e) => e.type === 'open').at(-1)!.resumed).toBe(true);
      } else {
        // The connection lived through the freeze: nothing failed, no reconnect.
        expect(failed, JSON.stringify(failed)).toEqual([]);
      }
      expect(log.events.filter((e) => e.at >= frozeAt && e.type === 'open').length).toBeLessThanOrEqual(1);
      expect(log.events.filter((e) => e.type === 'transport').map((e) => e.transport)).toEqual([transport]);
    } finally {
      await page.close();
    }
  });

  it('websocket: a welcome that arrives while the page is frozen opens the connection when it resumes (its open timeout, long past by then, does not throw it away)', async () => {
    server.upgrades = 'hold';
    const { page } = await openApp('websocket,sse', { openTimeoutMs: 1000, raceAfterMs: 0 });
    try {
      await until('the upgrade reaches the server', () => server.open > 0, 5_000);
      await freeze(page, 2000, async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        server.releaseHeld(); // the handshake completes and the welcome is sent while the page is frozen
      });
      await waitIn(page, "window.log.events.some((e) => e.type === 'open')");
      await waitIn(page, 'window.log.got.length >= 5');
      const log = await readLog(page);
      expect(log.events.filter((e) => e.type === 'open').map((e) => e.transport)).toEqual(['websocket']);
      expect(log.events.filter((e) => e.type === 'transportFailed' || e.type === 'fallback')).toEqual([]);
    } finally {
      server.upgrades = 'ok';
      await page.close();
    }
  });
});
