/**
 * Plain mode in real Chromium, Firefox and WebKit (test/support/browsers): the script-tag bundle (`dist/realtime-fallback.umd.min.js`, built by `npm test`)
 * served by the express app of servers.ts, using the browser's own WebSocket and fetch. The WebSocket upgrade is
 * refused, so the client falls back to the hand-written SSE route; a dropped stream resumes with Last-Event-ID.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browsersUnderTest, launchBrowser, type TestBrowser, type TestPage } from '../../support/browsers';
import { startPlainServer, type PlainServer } from '../../plain/servers';

const bundle = readFileSync(new URL('../../../dist/realtime-fallback.umd.min.js', import.meta.url), 'utf8');
const page = `<!doctype html><meta charset="utf-8"><title>plain</title><link rel="icon" href="data:,">
<script src="/realtime-fallback.umd.min.js"></script>
<script>
  window.got = [];
  window.failures = [];
  window.start = () => new Promise((resolve, reject) => {
    const client = new RealtimeFallback.RealtimeClient(location.origin, {
      protocol: 'plain',
      endpoints: { websocket: 'ws://' + location.host + '/', sse: '/events', polling: '/poll', send: '/send' },
      backoff: { initialMs: 50, maxMs: 200 },
    });
    window.client = client;
    for (const name of ['message', 'greeting', 'tick']) client.on(name, (d) => window.got.push([name, d]));
    client.lifecycle.on('open', (e) => resolve(e.transport));
    setTimeout(() => reject(new Error('not open after 8 s: ' + client.state)), 8000);
    client.lifecycle.on('close', (e) => reject(new Error(e.reason)));
    client.lifecycle.on('transportFailed', (e) => window.failures.push(e.transport + ': ' + e.failure.message));
  });
</script>`;

/** The plain-mode servers of test/plain/servers.ts with this page, one per browser (its counters start at zero). */
function startServer(): Promise<PlainServer> {
  return startPlainServer({
    websocket: 'refuse',
    retryMs: 100,
    routes(app) {
      app.get('/', (_req, res) => void res.type('html').send(page));
      app.get('/realtime-fallback.umd.min.js', (_req, res) => void res.type('text/javascript').send(bundle));
    },
  });
}

type Got = [string, unknown][];
const got = (tab: TestPage): Promise<Got> => tab.evaluate(() => (window as unknown as { got: Got }).got);
const ticks = (g: Got): number[] => g.filter(([e]) => e === 'tick').map(([, d]) => (d as { n: number }).n);

async function untilTab(tab: TestPage, check: (g: Got) => boolean, what: string, ms = 8000): Promise<Got> {
  const deadline = Date.now() + ms;
  for (;;) {
    const g = await got(tab);
    if (check(g)) return g;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(g)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(browsersUnderTest())('plain mode in %s (UMD bundle)', (name) => {
  let browser: TestBrowser;
  let s: PlainServer;
  beforeAll(async () => {
    s = await startServer();
    browser = await launchBrowser(name);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('falls back from a refused WebSocket to the SSE route and resumes a dropped stream with Last-Event-ID', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(s.origin + '/');
      // The client waits for `online` while the browser says it is offline (a fresh headless profile may, briefly).
      await tab.waitFor(() => navigator.onLine, undefined, { what: 'navigator.onLine' });
      const transport = await tab.evaluate(() => (window as unknown as { start(): Promise<string> }).start()).catch(async (e: unknown) => {
        throw new Error(`${String(e)}; transport failures: ${(await tab.evaluate<string[]>('window.failures')).join(' | ')}`);
      });
      expect(transport).toBe('sse');
      expect(s.wsRefused).toBeGreaterThanOrEqual(1);

      const first = await untilTab(tab, (g) => ticks(g).length >= 3, 'three ticks');
      expect(first.slice(0, 3)).toEqual([
        ['message', { hello: 'world' }],
        ['message', 'just text'],
        ['greeting', { lines: ['a', 'b'] }],
      ]);
      expect(s.sseRequests[0]!.lastEventId).toBeUndefined();

      const requestsBefore = s.sseRequests.length;
      expect(s.dropStreams()).toBe(1);
      const lastBefore = ticks(await got(tab)).at(-1)!;
      const after = await untilTab(tab, (g) => ticks(g).length >= ticks(first).length + 6, 'six more ticks after the drop');
      expect(s.sseRequests.length).toBe(requestsBefore + 1);
      // The drop may race one tick written just before it; the header names the last id the page had parsed.
      expect(Number(s.sseRequests.at(-1)!.lastEventId)).toBeGreaterThanOrEqual(lastBefore);
      const all = ticks(after);
      for (let i = 1; i < all.length; i++) expect(all[i]).toBe(all[i - 1]! + 1);
      expect(after.filter(([e]) => e === 'greeting')).toHaveLength(1);

      const said = `from ${name}`;
      await tab.evaluate((text) => (window as unknown as { client: { emit(e: string, d: unknown): void } }).client.emit('say', text), said);
      const deadline = Date.now() + 5000;
      while (!s.posted.some((p) => (p.body as { data?: unknown }).data === said) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(s.posted.map((p) => p.body)).toContainEqual({ event: 'say', data: said });
    } finally {
      await tab.evaluate(() => (window as unknown as { client?: { close(): void } }).client?.close()).catch(() => {});
      await tab.close();
    }
  });
});
