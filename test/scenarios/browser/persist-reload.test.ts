/**
 * `persist: true` in real Chromium with its IndexedDB (issue 17): emits made while the server cannot be reached survive
 * a reload, and a crash of the tab, and reach the server once, in order; with `resume: 'replay'` (the default) the new
 * page also gets what the server sent while the old one was away, from where the old one stopped, with no gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium } from '../../support/chromium';
import { CLIENT_PAGE, inOrder, readLog, sleep, startCountingServer, streamNumbers, until, waitIn, type CountingServer } from './counting-server';

let server: CountingServer;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
/** What the server accepted of the page's `say` emits, per session. */
const said = new Map<string, number[]>();

beforeAll(async () => {
  const stream = streamNumbers(25);
  server = await startCountingServer({
    pages: { '/app': CLIENT_PAGE },
    onSession: (session) => {
      stream(session);
      said.set(session.id, []);
      session.on('say', (n) => void said.get(session.id)!.push(n as number));
    },
  });
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});


describe('Chromium: persist across a crash of the tab (DevTools Page.crash), on websocket', () => {
  it('emits made before the crash arrive once after the page is loaded again; the same session resumes', async () => {
    const page = await chromium.context.newPage();
    try {
      await page.goto(`${server.origin}/app?t=websocket&o=${encodeURIComponent(JSON.stringify({ persist: true }))}`);
      await waitIn(page, 'window.log.got.length >= 10');
      const sid = await page.evaluate(() => (window as unknown as { client: { sessionId: string } }).client.sessionId);
      server.refuseAll = { status: 503 };
      server.dropAll();
      await waitIn(page, "window.client.state === 'reconnecting'");
      await page.evaluate(() => {
        for (let i = 1; i <= 20; i++) (window as unknown as { client: { emit(e: string, d: number): void } }).client.emit('say', i);
      });
      await sleep(200);
      const cdp = await chromium.context.newCDPSession(page);
      const crashed = new Promise((resolve) => page.once('crash', resolve));
      void cdp.send('Page.crash').catch(() => {}); // never answered: the renderer dies (no pagehide, nothing more runs)
      await crashed;
      server.refuseAll = null;
      // The crashed tab loaded again (what its "Reload" button does); playwright-core refuses goto on a crashed page.
      // So is every call on the page: the DevTools session of the tab, which outlives its renderer, reads it instead.
      await cdp.send('Page.navigate', { url: `${server.origin}/app?t=websocket&o=${encodeURIComponent(JSON.stringify({ persist: true }))}` });
      const read = async (expression: string): Promise<unknown> =>
        (await cdp.send('Runtime.evaluate', { expression, returnByValue: true })).result.value;
      await until('the reloaded tab is open', async () => (await read("window.client?.state")) === 'open');
      expect(await read('window.client.sessionId')).toBe(sid);
      await until('its outbox is empty', async () => (await read('window.client.queued.messages')) === 0);
      expect(said.get(sid)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      server.refuseAll = null;
      await page.close();
    }
  });
});

describe.each(['websocket', 'sse', 'polling'])('Chromium: persist across a reload, on %s', (transport) => {
  it('50 emits made while the server is unreachable arrive once, in order, after a reload; what was sent meanwhile is replayed with no gap', async () => {
    const page = await chromium.context.newPage();
    try {
      await page.goto(`${server.origin}/app?t=${transport}&o=${encodeURIComponent(JSON.stringify({ persist: true }))}`);
      await waitIn(page, 'window.log.got.length >= 10');
      const sid = await page.evaluate(() => (window as unknown as { client: { sessionId: string } }).client.sessionId);

      // The server becomes unreachable: every connection cut, every new attempt refused.
      server.refuseAll = { status: 503 };
      server.dropAll();
      await waitIn(page, "window.client.state === 'reconnecting'");
      const before = (await readLog(page)).got;
      await page.evaluate(() => {
        for (let i = 1; i <= 50; i++) (window as unknown as { client: { emit(e: string, d: number): void } }).client.emit('say', i);
      });
      await sleep(200); // written to IndexedDB at the end of the turn; this leaves it time to commit

      await page.reload();
      await sleep(300); // the new page tries, and is refused, while the server's session goes on
      server.refuseAll = null;
      await waitIn(page, "window.log.events.some((e) => e.type === 'open')");
      const opened = (await readLog(page)).events.find((e) => e.type === 'open')!;
      expect(opened.resumed).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { client: { sessionId: string } }).client.sessionId)).toBe(sid);

      await waitIn(page, 'window.log.got.length >= 20');
      const after = (await readLog(page)).got;
      expect(after[0], `the old page ended at ${before.at(-1)}`).toBe(before.at(-1)! + 1);
      expect(inOrder([...before, ...after]), 'gap or repeat across the reload').toBe(true);
      const got = said.get(sid)!;
      await waitIn(page, 'window.client.queued.messages === 0');
      expect(got.slice(-50)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(got).toHaveLength(50);
      expect((await readLog(page)).events.filter((e) => e.type === 'resync')).toEqual([]);
    } finally {
      server.refuseAll = null;
      await page.close();
    }
  });
});
