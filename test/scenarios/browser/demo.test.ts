/**
 * The demo page (demo/index.html + app.js, the minified UMD bundle from a <script> tag) in real Chromium, Firefox and
 * WebKit (test/support/browsers; `BROWSERS` picks a subset) against
 * the demo server (demo/server.mjs: the built reference server plus hostile-proxy switches), both started here on
 * fresh ports. `npm test` builds dist/ first. Timings the page measured are printed as `[e2e] ...` lines.
 *
 * Fallback speed depends on the path (README "Fallback"): a transport that fails before it opens hands over at once;
 * one that is only silent (a hanging upgrade, a buffered stream) gets the next transport started alongside it after
 * `raceAfterMs` (1 s), and the first to welcome is kept; one that had worked is reopened `retriesPerTransport` (3)
 * times with backoff first. These tests start pages with the fault already on: fresh page + fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DemoServer } from '../../../demo/server.mjs';
import { launchChromium } from '../../support/chromium';
import { browsersUnderTest, chromiumPage, launchBrowser, type BrowserName, type TestBrowser, type TestPage } from '../../support/browsers';
import { openDemo, pause, range, startCount, startServer, view, waitCounted, waitOpen, waitTicks, type PageView } from './demo-page';

/** Runs `fn` with a fresh demo server; closes its pages and the server whatever happens. */
async function withDemo(browser: TestBrowser, fn: (demo: DemoServer, open: (query?: string) => Promise<TestPage>) => Promise<void>, options: { heartbeatMs?: number } = {}): Promise<void> {
  const demo = await startServer(options);
  const pages: TestPage[] = [];
  try {
    await fn(demo, async (query = '') => {
      const page = await openDemo(browser, demo, query);
      pages.push(page);
      return page;
    });
  } finally {
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

/**
 * The line each browser's console shows for a WebSocket that could not connect (README, Troubleshooting), as the
 * page's errors report it. Chromium prints a console error with the URL and the status; Firefox reports it as a page
 * error with the URL (its query included); WebKit's console is not reachable over WebDriver classic and the page
 * itself prints nothing, so there is none to see.
 */
const failedWebSocketLine: Record<BrowserName, RegExp | null> = {
  chromium: /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/realtime\/ws\?[^']*' failed: /,
  firefox: /^pageerror: Firefox can’t establish a connection to the server at ws:\/\/127\.0\.0\.1:\d+\/realtime\/ws\?\S*\.$/,
  webkit: null,
};

/** Every error is this browser's failed-WebSocket line, and there are `count` of them (none where it shows none). */
function expectOnlyFailedWebSockets(name: BrowserName, errors: string[], count: number | 'some'): void {
  const line = failedWebSocketLine[name];
  if (line === null) return void expect(errors).toEqual([]);
  for (const e of errors) expect(e).toMatch(line);
  if (count === 'some') expect(errors.length).toBeGreaterThan(0);
  else expect(errors).toHaveLength(count);
}

const report = (browser: BrowserName | 'chromium-only', line: string): void => console.log(`[e2e ${browser}] ${line}`);

describe.each(browsersUnderTest())('demo page in %s', (name) => {
  let browser: TestBrowser;
  beforeAll(async () => {
    browser = await launchBrowser(name);
  }, 60_000);
  afterAll(() => browser?.close());
  const demoWith = (fn: Parameters<typeof withDemo>[1], options?: Parameters<typeof withDemo>[2]): Promise<void> => withDemo(browser, fn, options);

  it('opens on WebSocket by default; ticks arrive; a request resolves; nothing on the console', async () => {
    await demoWith(async (demo, open) => {
      const page = await open();
      await waitOpen(page, 'websocket');
      await waitTicks(page, 0, 3);
      await page.click('#echo');
      await page.waitFor(() => /ms over websocket$/.test(document.getElementById('rtt')!.textContent ?? ''), undefined, { what: 'echo round trip shown' });
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:open']);
      expect(demo.stats.websocket).toBe(1);
      expect(v.stats.gaps).toBe(0);
      expect(await page.errors()).toEqual([]);
      report(name, `default path: open on websocket after ${timeToOpen(v)} ms; echo ${await page.textContent('#rtt')}`);
    });
  });

  it('falls back to SSE at once when WebSocket upgrades are refused; the console shows what this browser prints', async () => {
    await demoWith(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      const page = await open();
      await waitOpen(page, 'sse', 3000);
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:failed', 'sse:open']);
      expect(timeToOpen(v)).toBeLessThan(1000);
      await waitTicks(page, v.stats.received, 2);
      const errors = await page.errors();
      // What users see in their consoles for a refused upgrade: the browser's own line, once.
      expectOnlyFailedWebSockets(name, errors, 1);
      report(name, `WebSocket refused: on SSE after ${timeToOpen(v)} ms (websocket failed after ${v.timeline[0]!.ms} ms); console: ${JSON.stringify(errors)}`);
    });
  });

  it('starts SSE alongside a hanging upgrade after raceAfterMs (1000 ms) and keeps it: on SSE within 2 s', async () => {
    await demoWith(async (demo, open) => {
      demo.setFault('hangWebSocket', true);
      const page = await open();
      await waitOpen(page, 'sse', 7000);
      const v = await view(page);
      // The hanging WebSocket lost the race: closed, not failed.
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['sse:open']);
      expect(timeToOpen(v)).toBeGreaterThanOrEqual(1000);
      expect(timeToOpen(v)).toBeLessThan(2000);
      await waitTicks(page, v.stats.received, 2);
      report(name, `WebSocket upgrade hangs: on SSE after ${timeToOpen(v)} ms; console: ${JSON.stringify(await page.errors())}`);
    });
  }, 20_000);

  it('falls back to long-polling when SSE is blocked too', async () => {
    await demoWith(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      demo.setFault('blockSse', true);
      const page = await open();
      await waitOpen(page, 'polling', 3000);
      const v = await view(page);
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:failed', 'sse:failed', 'polling:open']);
      await waitTicks(page, v.stats.received, 3);
      expect((await view(page)).stats).toMatchObject({ gaps: 0, dups: 0 });
      report(name, `WebSocket refused + SSE blocked: on polling after ${timeToOpen(v)} ms; console: ${JSON.stringify(await page.errors())}`);
    });
  });

  it('starts long-polling alongside SSE a proxy buffers after raceAfterMs (1000 ms) and keeps it: on polling within 2 s', async () => {
    await demoWith(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      demo.setFault('bufferSse', true);
      const page = await open();
      await waitOpen(page, 'polling', 5000);
      const v = await view(page);
      // The buffered SSE stream lost the race: closed, not failed.
      expect(v.timeline.map((e) => `${e.transport}:${e.outcome}`)).toEqual(['websocket:failed', 'polling:open']);
      expect(timeToOpen(v)).toBeGreaterThanOrEqual(1000);
      expect(timeToOpen(v)).toBeLessThan(2000);
      await waitTicks(page, v.stats.received, 3);
      report(name, `WebSocket refused + SSE buffered: on polling after ${timeToOpen(v)} ms`);
    });
  });

  // WebSocket as the page opens by default; SSE and polling alone (`transports=` in the page's query). A cut stream
  // (WebSocket, SSE) is a drop the page notices and resumes; a cut long-poll is not: the next poll (or, in Firefox
  // and WebKit, the browser's silent re-send of the cut GET) carries on, so the timeline shows nothing. When such a
  // cut came after the server had written its answer, the client sees a gap and resumes to fill it. Whatever the
  // browser, nothing is lost or repeated.
  it.each([
    ['websocket', 8, 600],
    ['sse', 5, 400],
    ['polling', 5, 400],
  ] as const)('delivers every number of a counter once, in order, on %s while the server drops all connections %i times', async (transport, drops, total) => {
    await demoWith(async (demo, open) => {
      const page = await open(transport === 'websocket' ? '' : `transports=${transport}`);
      await waitOpen(page, transport);
      await startCount(page, total, 10);
      const started = Date.now();
      let before = 0;
      let cut = 0;
      for (let drop = 1; drop <= drops; drop++) {
        before = (await view(page)).counted.length;
        await waitOpen(page, transport);
        await waitCounted(page, before + 20); // each drop cuts a stream that has been delivering again
        const n = demo.dropAll();
        expect(n).toBeGreaterThan(0); // it did cut the page's connection(s)
        cut += n;
      }
      const dropsDoneAt = Date.now() - started;
      await waitCounted(page, total, 15_000);
      await pause(page, 100); // anything extra (a duplicate) would show up now
      const v = await view(page);
      expect(v.counted.length).toBe(total);
      expect(v.counted).toEqual(range(total));
      expect(v.stats).toMatchObject({ gaps: 0, dups: 0, resyncs: 0 });
      const dropped = v.timeline.filter((e) => e.outcome === 'dropped');
      if (transport !== 'polling') expect(dropped.length).toBeGreaterThanOrEqual(drops);
      expect(v.timeline.every((e) => e.transport === transport)).toBe(true);
      expect(before + 20).toBeLessThan(total); // the last drop happened while the counter still ran
      const noticed = `${dropped.length} noticed${dropped.length > 0 ? ` (${[...new Set(dropped.map((e) => e.detail))].join(' | ')})` : ''}`;
      report(name, `${drops} drops on ${transport} (${cut} connections cut, ${noticed}) in ${dropsDoneAt} ms while counting to ${total} (last drop at number ~${before + 20}): all ${total} numbers once, in order`);
    });
  }, 30_000);

  it('chats between pages: broadcast reaches the others; a room message only the room members', async () => {
    await demoWith(async (_demo, open) => {
      const [a, b, c] = [await open('name=alice'), await open('name=bob'), await open('name=carol')];
      for (const p of [a, b, c]) await waitOpen(p, 'websocket');
      const say = (page: TestPage, text: string, room = ''): Promise<void> =>
        page.evaluate(
          ([t, r]) => {
            (document.getElementById('chat-to') as HTMLSelectElement).value = r!;
            (document.getElementById('chat-text') as HTMLInputElement).value = t!;
            document.getElementById('chat-send')!.click();
          },
          [text, room],
        );
      const join = async (page: TestPage, room: string): Promise<void> => {
        await page.evaluate((r) => {
          (document.getElementById('room-name') as HTMLInputElement).value = r;
          document.getElementById('room-join')!.click();
        }, room);
        await page.waitFor((r) => document.getElementById('rooms')!.textContent!.includes('#' + r), room, { timeout: 3000, what: `joined #${room}` });
      };
      const hostile = '<img src=x id=pwned> & <b>bold</b>';
      await say(a, hostile);
      for (const p of [b, c]) await p.waitFor(() => (window as unknown as { demo: PageView }).demo.chat.length >= 1, undefined, { timeout: 3000, what: 'a chat message' });
      for (const p of [b, c]) {
        expect((await view(p)).chat).toEqual([{ user: 'alice', text: hostile, room: null }]);
        expect(await p.evaluate(() => document.querySelectorAll('#pwned').length)).toBe(0); // rendered as text, never as HTML
        expect(await p.evaluate(() => document.querySelector('#chat-log li:last-child')?.textContent)).toBe(`alice ${hostile}`);
      }
      expect((await view(a)).chat).toEqual([]); // the sender is not sent its own message (shown locally)

      await join(a, 'ops');
      await join(b, 'ops');
      await say(a, 'room only', 'ops');
      await say(a, 'everyone again');
      for (const p of [b, c]) await p.waitFor(() => (window as unknown as { demo: PageView }).demo.chat.some((m) => m.text === 'everyone again'), undefined, { timeout: 3000, what: 'the second broadcast' });
      // One server, one ordered stream per session: carol got the later broadcast, so she would have the room message.
      expect((await view(b)).chat.map((m) => [m.text, m.room])).toEqual([[hostile, null], ['room only', 'ops'], ['everyone again', null]]);
      expect((await view(c)).chat.map((m) => [m.text, m.room])).toEqual([[hostile, null], ['everyone again', null]]);
      report(name, 'chat: broadcast reached 2 of 2 others; room message reached bob (member) and not carol');
    });
  });

  it('upgrades back to WebSocket once it is allowed again, without losing a message (upgradeProbeMs=300 from the page)', async () => {
    await demoWith(async (demo, open) => {
      demo.setFault('refuseWebSocket', true);
      const page = await open('probe=300');
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
      await pause(page, 100);
      const v = await view(page);
      expect(v.timeline.some((e) => e.transport === 'websocket' && e.outcome === 'upgrade')).toBe(true);
      expect(during).toBeLessThan(total); // the upgrade happened mid-stream
      expect(v.counted).toEqual(range(total));
      expect(v.stats).toMatchObject({ gaps: 0, dups: 0, resyncs: 0 });
      // The first attempt and each refused probe print the browser's failed-WebSocket line; nothing else shows.
      const errors = await page.errors();
      expectOnlyFailedWebSockets(name, errors, 'some');
      report(name, `upgrade: ${errors.length} console lines for refused WebSockets; back on websocket ${upgradedAt - allowedAt} ms after it was allowed, at number ${during} of ${total}; all delivered once, in order`);
    });
  }, 20_000);
});

// DevTools features (offline emulation, viewport, screenshots, the request log): these stay in Chromium.
describe('demo page, Chromium only (DevTools: offline emulation, screenshots, request log)', () => {
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    chromium = await launchChromium();
  }, 60_000);
  afterAll(() => chromium?.close());

  /** withDemo on Chromium pages that keep their playwright handle; the browser is back online afterwards. */
  async function withChromiumDemo(fn: (demo: DemoServer, open: (query?: string) => Promise<{ page: TestPage; raw: import('playwright-core').Page }>) => Promise<void>, options: { heartbeatMs?: number } = {}): Promise<void> {
    const demo = await startServer(options);
    const pages: import('playwright-core').Page[] = [];
    try {
      await fn(demo, async (query = '') => {
        const raw = await chromium.context.newPage();
        pages.push(raw);
        const page = chromiumPage(raw);
        await page.goto(demo.url + (query ? `?${query}` : ''));
        return { page, raw };
      });
    } finally {
      await chromium.context.setOffline(false);
      for (const p of pages) await p.close().catch(() => {});
      await demo.close();
    }
  }

  it('waits while the browser is offline without attempting anything, then resumes without a gap', async () => {
    // Heartbeat 400 ms (liveness limit 1 s): the client notices the dead connection while offline, so this tests
    // that its reconnect waits for `online` instead of spinning.
    await withChromiumDemo(
      async (demo, open) => {
        const { page } = await open();
        await waitOpen(page, 'websocket');
        await waitTicks(page, 0, 2);
        await chromium.context.setOffline(true);
        const serverBefore = { ...demo.stats };
        for (let n = 1; n <= 5; n++) {
          await page.evaluate((k) => (window as unknown as { demo: { client: { emit(e: string, d: unknown): void } } }).demo.client.emit('note', { n: k }), n);
        }
        // Let the liveness check fire (≈1 s), then watch 2 more seconds of offline.
        await page.waitFor(() => (window as unknown as { demo: { client: { state: string } } }).demo.client.state !== 'open', undefined, { timeout: 3000, what: 'the drop noticed' });
        const settled = await view(page);
        await pause(page, 2000);
        const offline = await view(page);
        expect(offline.state).toBe('reconnecting');
        expect(offline.stats.attempts).toBe(settled.stats.attempts); // no new attempt scheduled or made
        expect(offline.timeline.length).toBe(settled.timeline.length); // no attempt failed
        expect(demo.stats).toEqual(serverBefore); // nothing reached the server

        const t0 = Date.now();
        await chromium.context.setOffline(false);
        await waitOpen(page, 'websocket', 5000);
        const resumedAfter = Date.now() - t0;
        await waitTicks(page, offline.stats.received, 3);
        await page.waitFor(() => (window as unknown as { demo: { client: { queued: { messages: number } } } }).demo.client.queued.messages === 0, undefined, { timeout: 3000, what: 'queue empty' });
        const v = await view(page);
        expect(v.stats).toMatchObject({ gaps: 0, dups: 0, resyncs: 0 });
        expect(v.timeline.at(-1)).toMatchObject({ outcome: 'open', detail: 'session resumed' });
        const mine = demo.notes.filter((n) => n.sid === v.sessionId).map((n) => n.n);
        expect(mine).toEqual([1, 2, 3, 4, 5]);
        report(
          'chromium-only',
          `offline: ${offline.stats.attempts - settled.stats.attempts} attempts in 2 s offline after the drop was noticed; ` +
            `resumed on websocket ${resumedAfter} ms after online; ${v.stats.received - offline.stats.received} ticks since, no gap; notes ${mine.join(',')}`,
        );
      },
      { heartbeatMs: 400 },
    );
  }, 20_000);

  it('loads under its strict CSP with no console errors, fits a phone screen, and the ESM page works too', async () => {
    await withChromiumDemo(async (demo, open) => {
      const res = await fetch(demo.url);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
      const { page: p, raw: page } = await open();
      await page.setViewportSize({ width: 1100, height: 1300 });
      await waitOpen(p, 'websocket');
      await waitTicks(p, 0, 5);
      await page.click('#echo');
      await p.waitFor(() => /ms over/.test(document.getElementById('rtt')!.textContent ?? ''), undefined, { what: 'echo shown' });
      await page.fill('#chat-text', 'hello from the screenshot');
      await page.click('#chat-send');
      // A CSP violation (inline script, handler or style) is reported as a console error.
      await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
      expect(await p.errors()).toEqual([]);
      const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));
      mkdirSync(docs, { recursive: true });
      // The committed docs/demo.png is refreshed only on request, so a test run leaves the work tree clean.
      const shot = process.env.UPDATE_SCREENSHOT === '1' ? `${docs}demo.png` : join(tmpdir(), 'realtime-fallback-demo.png');
      await page.screenshot({ path: shot, fullPage: true });

      await page.setViewportSize({ width: 375, height: 740 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);

      const esm = await chromium.context.newPage();
      const esmErrors: string[] = [];
      esm.on('console', (m) => {
        if (m.type() === 'error') esmErrors.push(m.text());
      });
      esm.on('pageerror', (e) => esmErrors.push(`pageerror: ${e.message}`));
      const requested: string[] = [];
      esm.on('request', (r) => requested.push(new URL(r.url()).pathname));
      try {
        await esm.goto(demo.url + 'esm.html');
        await waitOpen(chromiumPage(esm), 'websocket');
        await esm.click('#echo');
        await esm.waitForFunction(() => /ms over websocket/.test(document.getElementById('rtt')!.textContent ?? ''), undefined, { timeout: 5000 });
        expect(esmErrors).toEqual([]);
        expect(requested).toContain('/dist/index.mjs');
        expect(requested).not.toContain('/vendor/event-source-polyfill.mjs'); // native EventSource: never loaded
      } finally {
        await esm.close();
      }
      report('chromium-only', 'CSP: no console errors on / and /esm.html; screenshot taken (docs/demo.png with UPDATE_SCREENSHOT=1); no horizontal overflow at 375 px');
    });
  });
});
