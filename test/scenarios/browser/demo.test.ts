/**
 * The demo page (demo/index.html + app.js, the minified UMD bundle from a <script> tag) in real Chromium against
 * the demo server (demo/server.mjs: the built reference server plus hostile-proxy switches), both started here on
 * fresh ports. `npm test` builds dist/ first. Timings the page measured are printed as `[e2e] ...` lines.
 *
 * Fallback speed depends on the path (README "Fallback"): a transport that never opened hands over at once, one that
 * had worked is reopened `retriesPerTransport` (3) times with backoff first. These tests start pages with the fault
 * already on, so they measure the fast path: fresh page + fault → immediate step-down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { DemoServer } from '../../../demo/server.mjs';
import { launchChromium } from '../../support/chromium';
import { openDemo, range, startCount, startServer, view, waitCounted, waitOpen, waitTicks, type PageView } from './demo-page';

let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Runs `fn` with a fresh demo server; closes its pages and the server whatever happens. */
async function withDemo(fn: (demo: DemoServer, open: (query?: string) => Promise<{ page: Page; errors: string[] }>) => Promise<void>, options: { heartbeatMs?: number } = {}): Promise<void> {
  const demo = await startServer(options);
  const pages: Page[] = [];
  try {
    await fn(demo, async (query = '') => {
      const opened = await openDemo(browser.context, demo, query);
      pages.push(opened.page);
      return opened;
    });
  } finally {
    await browser.context.setOffline(false);
    for (const p of pages) await p.close().catch(() => {});
    await demo.close();
  }
}

/** Time from the client's creation to its first `open`, as the page measured it (wall clock, ms). */
function timeToOpen(v: PageView): number {
  const open = v.timeline.find((e) => e.outcome === 'open');
  if (!open) throw new Error(`never opened: ${JSON.stringify(v.timeline)}`);
  return open.at - v.stats.startedAt;
}

const report = (line: string): void => console.log(`[e2e] ${line}`);

describe('demo page in Chromium', () => {
  it('opens on WebSocket by default; ticks arrive; a request resolves', async () => {
    await withDemo(async (demo, open) => {
      const { page } = await open();
      await waitOpen(page, 'websocket');
      await waitTicks(page, 0, 3);
      await page.click('#echo');
      await page.waitForFunction(() => /ms over websocket$/.test(document.getElementById('rtt')!.textContent ?? ''), undefined, { timeout: 5000 });
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:open']);
      expect(demo.stats.websocket).toBe(1);
      expect(v.stats.gaps).toBe(0);
      report(`default path: open on websocket after ${timeToOpen(v)} ms; echo ${await page.textContent('#rtt')}`);
    });
  });

  it('falls back to SSE at once when WebSocket upgrades are refused', async () => {
    await withDemo(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      const { page } = await open();
      await waitOpen(page, 'sse', 3000);
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:failed', 'sse:open']);
      expect(timeToOpen(v)).toBeLessThan(1000);
      await waitTicks(page, v.stats.received, 2);
      report(`WebSocket refused: on SSE after ${timeToOpen(v)} ms (websocket failed after ${v.timeline[0]!.ms} ms)`);
    });
  });

  it('falls back to SSE within the WebSocket open timeout (5000 ms) + 1 s when the upgrade hangs', async () => {
    await withDemo(async (demo, open) => {
      demo.setFault('hangWebSocket', true);
      const { page } = await open();
      await waitOpen(page, 'sse', 7000);
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:failed', 'sse:open']);
      expect(timeToOpen(v)).toBeLessThan(6000);
      await waitTicks(page, v.stats.received, 2);
      report(`WebSocket upgrade hangs: on SSE after ${timeToOpen(v)} ms`);
    });
  }, 20_000);

  it('falls back to long-polling when SSE is blocked too', async () => {
    await withDemo(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      demo.setFault('blockSse', true);
      const { page } = await open();
      await waitOpen(page, 'polling', 3000);
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:failed', 'sse:failed', 'polling:open']);
      await waitTicks(page, v.stats.received, 3);
      expect((await view(page)).stats).toMatchObject({ gaps: 0, dups: 0 });
      report(`WebSocket refused + SSE blocked: on polling after ${timeToOpen(v)} ms`);
    });
  });

  it('falls back to long-polling when SSE is buffered by a proxy (SSE open timeout 1500 ms from the page)', async () => {
    await withDemo(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      demo.setFault('bufferSse', true);
      const { page } = await open('sseTimeout=1500');
      await waitOpen(page, 'polling', 5000);
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:failed', 'sse:failed', 'polling:open']);
      expect(timeToOpen(v)).toBeLessThan(2500);
      await waitTicks(page, v.stats.received, 3);
      report(`WebSocket refused + SSE buffered: on polling after ${timeToOpen(v)} ms`);
    });
  });

  it('delivers every number of a counter once, in order, while the server drops all connections 8 times', async () => {
    await withDemo(async (demo, open) => {
      const { page } = await open();
      await waitOpen(page, 'websocket');
      const total = 600;
      await startCount(page, total, 10);
      const started = Date.now();
      let before = 0;
      for (let drop = 1; drop <= 8; drop++) {
        before = (await view(page)).counted.length;
        await waitOpen(page, 'websocket');
        await waitCounted(page, before + 5);
        demo.dropAll();
      }
      const dropsDoneAt = Date.now() - started;
      await waitCounted(page, total, 15_000);
      await page.waitForTimeout(100); // anything extra (a duplicate) would show up now
      const v = await view(page);
      expect(v.counted.length).toBe(total);
      expect(v.counted).toEqual(range(total));
      expect(v.stats).toMatchObject({ gaps: 0, dups: 0, resyncs: 0 });
      expect(v.timeline.filter((e) => e.outcome === 'dropped').length).toBeGreaterThanOrEqual(8);
      expect(before + 5).toBeLessThan(total); // the last drop happened while the counter still ran
      report(`8 drops in ${dropsDoneAt} ms while counting to ${total} (last drop at number ~${before + 5}): all ${total} numbers once, in order; ${v.timeline.length} timeline entries`);
    });
  }, 30_000);

  it('waits while the browser is offline without attempting anything, then resumes without a gap', async () => {
    // Heartbeat 400 ms (liveness limit 1 s): the client notices the dead connection while offline, so this tests
    // that its reconnect waits for `online` instead of spinning.
    await withDemo(
      async (demo, open) => {
        const { page } = await open();
        await waitOpen(page, 'websocket');
        await waitTicks(page, 0, 2);
        await browser.context.setOffline(true);
        const serverBefore = { ...demo.stats };
        for (let n = 1; n <= 5; n++) {
          await page.evaluate((k) => (window as unknown as { demo: { client: { emit(e: string, d: unknown): void } } }).demo.client.emit('note', { n: k }), n);
        }
        // Let the liveness check fire (≈1 s), then watch 2 more seconds of offline.
        await page.waitForFunction(() => (window as unknown as { demo: { client: { state: string } } }).demo.client.state !== 'open', undefined, { timeout: 3000 });
        const settled = await view(page);
        await page.waitForTimeout(2000);
        const offline = await view(page);
        expect(offline.state).toBe('reconnecting');
        expect(offline.stats.attempts).toBe(settled.stats.attempts); // no new attempt scheduled or made
        expect(offline.timeline.length).toBe(settled.timeline.length); // no attempt failed
        expect(demo.stats).toEqual(serverBefore); // nothing reached the server

        const t0 = Date.now();
        await browser.context.setOffline(false);
        await waitOpen(page, 'websocket', 5000);
        const resumedAfter = Date.now() - t0;
        await waitTicks(page, offline.stats.received, 3);
        await page.waitForFunction(() => (window as unknown as { demo: { client: { queued: { messages: number } } } }).demo.client.queued.messages === 0, undefined, { timeout: 3000 });
        const v = await view(page);
        expect(v.stats).toMatchObject({ gaps: 0, dups: 0, resyncs: 0 });
        expect(v.timeline.at(-1)).toMatchObject({ outcome: 'open', detail: 'session resumed' });
        const mine = demo.notes.filter((n) => n.sid === v.sessionId).map((n) => n.n);
        expect(mine).toEqual([1, 2, 3, 4, 5]);
        report(
          `offline: ${offline.stats.attempts - settled.stats.attempts} attempts in 2 s offline after the drop was noticed; ` +
            `resumed on websocket ${resumedAfter} ms after online; ${v.stats.received - offline.stats.received} ticks since, no gap; notes ${mine.join(',')}`,
        );
      },
      { heartbeatMs: 400 },
    );
  }, 20_000);

  it('chats between pages: broadcast reaches the others; a room message only the room members', async () => {
    await withDemo(async (demo, open) => {
      const [a, b, c] = [await open('name=alice'), await open('name=bob'), await open('name=carol')];
      for (const p of [a, b, c]) await waitOpen(p.page, 'websocket');
      const say = async (page: Page, text: string, room = ''): Promise<void> => {
        await page.selectOption('#chat-to', room);
        await page.fill('#chat-text', text);
        await page.click('#chat-send');
      };
      const join = async (page: Page, room: string): Promise<void> => {
        await page.fill('#room-name', room);
        await page.click('#room-join');
        await page.waitForFunction((r) => document.getElementById('rooms')!.textContent!.includes('#' + r), room, { timeout: 3000 });
      };
      const hostile = '<img src=x id=pwned> & <b>bold</b>';
      await say(a.page, hostile);
      for (const p of [b, c]) await p.page.waitForFunction(() => (window as unknown as { demo: PageView }).demo.chat.length >= 1, undefined, { timeout: 3000 });
      for (const p of [b, c]) {
        expect((await view(p.page)).chat).toEqual([{ user: 'alice', text: hostile, room: null }]);
        expect(await p.page.locator('#pwned').count()).toBe(0); // rendered as text, never as HTML
        expect(await p.page.locator('#chat-log li').last().textContent()).toBe(`alice ${hostile}`);
      }
      expect((await view(a.page)).chat).toEqual([]); // the sender is not sent its own message (shown locally)

      await join(a.page, 'ops');
      await join(b.page, 'ops');
      await say(a.page, 'room only', 'ops');
      await say(a.page, 'everyone again');
      for (const p of [b, c]) await p.page.waitForFunction(() => (window as unknown as { demo: PageView }).demo.chat.some((m) => m.text === 'everyone again'), undefined, { timeout: 3000 });
      // One server, one ordered stream per session: carol got the later broadcast, so she would have the room message.
      expect((await view(b.page)).chat.map((m) => [m.text, m.room])).toEqual([[hostile, null], ['room only', 'ops'], ['everyone again', null]]);
      expect((await view(c.page)).chat.map((m) => [m.text, m.room])).toEqual([[hostile, null], ['everyone again', null]]);
      report('chat: broadcast reached 2 of 2 others; room message reached bob (member) and not carol');
    });
  });

  it('upgrades back to WebSocket once it is allowed again, without losing a message (upgradeProbeMs=300 from the page)', async () => {
    await withDemo(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      const { page } = await open('probe=300');
      await waitOpen(page, 'sse', 3000);
      const total = 500;
      await startCount(page, total, 10);
      await waitCounted(page, 30);
      demo.setFault('refuseWebSocket', false);
      const allowedAt = Date.now();
      await waitOpen(page, 'websocket', 8000);
      const upgradedAt = Date.now();
      const during = (await view(page)).counted.length;
      await waitCounted(page, total, 10_000);
      await page.waitForTimeout(100);
      const v = await view(page);
      expect(v.timeline.some((e) => e.transport === 'websocket' && e.outcome === 'upgrade')).toBe(true);
      expect(during).toBeLessThan(total); // the upgrade happened mid-stream
      expect(v.counted).toEqual(range(total));
      expect(v.stats).toMatchObject({ gaps: 0, dups: 0, resyncs: 0 });
      report(`upgrade: back on websocket ${upgradedAt - allowedAt} ms after it was allowed, at number ${during} of ${total}; all delivered once, in order`);
    });
  }, 20_000);

  it('loads under its strict CSP with no console errors, fits a phone screen, and the ESM page works too', async () => {
    await withDemo(async (demo) => {
      const res = await fetch(demo.url);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
      const { page, errors } = await openDemo(browser.context, demo);
      try {
        await page.setViewportSize({ width: 1100, height: 1300 });
        await waitOpen(page, 'websocket');
        await waitTicks(page, 0, 5);
        await page.click('#echo');
        await page.waitForFunction(() => /ms over/.test(document.getElementById('rtt')!.textContent ?? ''), undefined, { timeout: 5000 });
        await page.fill('#chat-text', 'hello from the screenshot');
        await page.click('#chat-send');
        // A CSP violation (inline script, handler or style) is reported as a console error.
        await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
        expect(errors).toEqual([]);
        const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));
        mkdirSync(docs, { recursive: true });
        // The committed docs/demo.png is refreshed only on request, so a test run leaves the work tree clean.
        const shot = process.env.UPDATE_SCREENSHOT === '1' ? `${docs}demo.png` : join(tmpdir(), 'realtime-fallback-demo.png');
        await page.screenshot({ path: shot, fullPage: true });

        await page.setViewportSize({ width: 375, height: 740 });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).toBeLessThanOrEqual(0);
      } finally {
        await page.close();
      }

      const esm = await browser.context.newPage();
      const esmErrors: string[] = [];
      esm.on('console', (m) => {
        if (m.type() === 'error') esmErrors.push(m.text());
      });
      esm.on('pageerror', (e) => esmErrors.push(`pageerror: ${e.message}`));
      const requested: string[] = [];
      esm.on('request', (r) => requested.push(new URL(r.url()).pathname));
      try {
        await esm.goto(demo.url + 'esm.html');
        await waitOpen(esm, 'websocket');
        await esm.click('#echo');
        await esm.waitForFunction(() => /ms over websocket/.test(document.getElementById('rtt')!.textContent ?? ''), undefined, { timeout: 5000 });
        expect(esmErrors).toEqual([]);
        expect(requested).toContain('/dist/index.mjs');
        expect(requested).not.toContain('/vendor/event-source-polyfill.mjs'); // native EventSource: never loaded
      } finally {
        await esm.close();
      }
      report('CSP: no console errors on / and /esm.html; screenshot taken (docs/demo.png with UPDATE_SCREENSHOT=1); no horizontal overflow at 375 px');
    });
  });
});
