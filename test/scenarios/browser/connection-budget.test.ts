/**
 * How many connections one client holds to its server, in real Chromium against the reference server (issue 17):
 * never more than two during normal work (the stream, and one POST at a time) and three during an upgrade probe or a
 * race; `close()` lets go of every one of them; and a server that refuses every attempt at once gets no more than the
 * attempt floor allows. Counted on the server: requests not yet answered or aborted, and open WebSockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MAX_ATTEMPTS_PER_WINDOW, WINDOW_MS } from '../../../src/client/attempt-window';
import { launchChromium } from '../../support/chromium';
import { CLIENT_PAGE, readLog, sleep, startCountingServer, streamNumbers, until, waitIn, type CountingServer } from './counting-server';

let server: CountingServer;
let chromium: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  server = await startCountingServer({ pages: { '/app': CLIENT_PAGE }, onSession: streamNumbers(20) });
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});


async function openApp(transports: string, options: object = {}): Promise<Page> {
  const page = await chromium.context.newPage();
  await page.goto(`${server.origin}/app?t=${transports}&o=${encodeURIComponent(JSON.stringify(options))}`);
  return page;
}

/** The page emits one message every 10 ms, so that POSTs are in flight all the time on SSE and polling. */
const startEmitting = (page: Page) =>
  page.evaluate(() => {
    let n = 0;
    (window as unknown as { pump: number }).pump = window.setInterval(() => (window as unknown as { client: { emit(e: string, d: number): void } }).client.emit('say', ++n), 10);
  });

/** `close()`, then every connection is let go of. */
async function closeAndCheck(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { client: { close(): void } }).client.close());
  await until('the closed client holds no connection', () => server.open === 0, 5_000);
}

describe('Chromium: connections one client holds to the server', () => {
  it.each(['websocket', 'sse', 'polling'])('%s, streaming both ways: at most 2 (stream + one POST), none after close()', async (transport) => {
    const page = await openApp(transport);
    try {
      await waitIn(page, "window.log.events.some((e) => e.type === 'open')");
      server.resetPeak();
      await startEmitting(page);
      await sleep(1500);
      expect(server.peak.count, `held at once: ${server.peak.what.join(', ')}`).toBeLessThanOrEqual(2);
      expect(server.peak.count).toBeGreaterThan(0);
      await closeAndCheck(page);
    } finally {
      await page.close();
    }
  });

  it('a race (WebSocket upgrade unanswered, SSE started alongside after 1 s): at most 3, then 2 once SSE leads; none after close()', async () => {
    server.upgrades = 'hang';
    server.resetPeak();
    const page = await openApp('websocket,sse,polling');
    try {
      await startEmitting(page);
      await waitIn(page, "window.log.events.some((e) => e.type === 'open')");
      expect((await readLog(page)).events.find((e) => e.type === 'open')!.transport).toBe('sse');
      await sleep(1000);
      expect(server.peak.count, `held at once: ${server.peak.what.join(', ')}`).toBeLessThanOrEqual(3);
      expect(server.peak.what).toContain('websocket'); // it did race
      server.resetPeak();
      await sleep(1000);
      expect(server.peak.count, `held at once after the race: ${server.peak.what.join(', ')}`).toBeLessThanOrEqual(2);
      await closeAndCheck(page);
    } finally {
      server.upgrades = 'ok';
      await page.close();
    }
  });

  it('an upgrade probe in flight (on SSE, WebSocket probed and held): at most 3; after the upgrade, the WebSocket alone; none after close()', async () => {
    server.upgrades = 'refuse';
    const page = await openApp('websocket,sse,polling', { upgradeProbeMs: 300 });
    try {
      await waitIn(page, "window.log.events.some((e) => e.type === 'open')");
      server.upgrades = 'hold';
      await startEmitting(page);
      server.resetPeak();
      await until('the probe is held at the server', () => server.peak.what.includes('websocket'));
      await sleep(500);
      expect(server.peak.count, `held at once: ${server.peak.what.join(', ')}`).toBeLessThanOrEqual(3);
      server.upgrades = 'ok';
      server.releaseHeld();
      await waitIn(page, "window.log.events.some((e) => e.type === 'transport' && e.transport === 'websocket')");
      await page.evaluate(() => clearInterval((window as unknown as { pump: number }).pump));
      await until('only the WebSocket is left', () => server.open === 1);
      await closeAndCheck(page);
    } finally {
      server.upgrades = 'ok';
      await page.close();
    }
  });
});

describe('Chromium: a server that refuses every attempt at once', () => {
  it(`429 with Retry-After: 0 on every request and upgrade: at most ${MAX_ATTEMPTS_PER_WINDOW} attempts in any second`, async () => {
    server.refuseAll = { status: 429, retryAfter: 0 };
    const from = server.handshakes.length;
    const page = await openApp('websocket,sse,polling');
    try {
      await sleep(3000);
      const times = server.handshakes.slice(from);
      expect(times.length).toBeGreaterThan(MAX_ATTEMPTS_PER_WINDOW); // it did keep trying
      // Every window of one second holds at most the floor's count (a little slack for the network's own delay).
      for (let i = 0; i < times.length; i++) {
        const within = times.filter((t) => t >= times[i]! && t < times[i]! + WINDOW_MS - 50).length;
        expect(within, `${times.length} attempts, the first at ${times.slice(0, 12).map((t) => t - times[0]!).join(', ')} ms`).toBeLessThanOrEqual(MAX_ATTEMPTS_PER_WINDOW);
      }
    } finally {
      server.refuseAll = null;
      await page.close();
    }
  });
});
