/**
 * Sharing one connection between tabs in Chromium, Firefox and WebKit (test/support/browsers; `BROWSERS` picks a
 * subset): pages of one browser session on one origin, the script-tag build, the reference server a child process.
 * What needs DevTools (a crash, hiding a page) is in tabs.test.ts, Chromium only. Where a browser hides the tabs
 * behind the newest one (a real `hidden`), the leader hands over to a visible tab as they open: which tab leads is not
 * asserted, only that one does and that nothing is lost or repeated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browsersUnderTest, launchBrowser, type TestBrowser, type TestPage } from '../../support/browsers';
import { startShareServer } from './server-process';

interface Harness {
  got: number[];
  roles: { role: string }[];
  resyncs: number;
  errors: string[];
  role(): string | null;
  client: { state: string; sessionId: string | null; queued: { messages: number } };
}
declare const window: { harness: Harness };

const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe.each(browsersUnderTest())('tabs sharing one connection in %s', (name) => {
  let browser: TestBrowser;
  beforeAll(async () => void (browser = await launchBrowser(name)), 60_000);
  afterAll(() => browser?.close());

  it('three tabs: one session; every message once and in order in each; emits once; replies to their own tab; the leader closes and another takes the session over', async () => {
    const server = await startShareServer();
    const pages: TestPage[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage();
        pages.push(page);
        await page.goto(`${server.origin}/`);
        await page.evaluate('window.harness.start({})');
        await page.waitFor(() => window.harness.client.state === 'open', undefined, { what: `tab ${i} open` });
      }
      await server.ticks(100, 2);
      for (const [i, page] of pages.entries()) await page.evaluate(`window.harness.say(${i}, 1, 20, 0)`);
      const replies = await Promise.all(pages.map((p, i) => p.evaluate(`window.harness.client.request('echo', { tab: ${i} })`)));
      expect(replies).toEqual([{ tab: 0 }, { tab: 1 }, { tab: 2 }]);
      for (const page of pages) await page.waitFor(() => window.harness.got.length >= 100 && window.harness.client.queued.messages === 0, undefined, { what: '100 ticks, emits acknowledged' });
      const roles = await Promise.all(pages.map((p) => p.evaluate(() => window.harness.role())));
      expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
      expect(new Set(await Promise.all(pages.map((p) => p.evaluate(() => window.harness.client.sessionId)))).size).toBe(1);

      // The leader's tab closes: another leads, on the same session.
      const leader = roles.indexOf('leader');
      await pages[leader]!.close();
      const rest = pages.filter((_, i) => i !== leader);
      await server.ticks(50, 2);
      for (const page of rest) await page.waitFor(() => window.harness.got.length >= 150, undefined, { what: '150 ticks', timeout: 10_000 });
      for (const page of rest) {
        const v = await page.evaluate(() => ({ got: window.harness.got, resyncs: window.harness.resyncs, errors: window.harness.errors }));
        expect(v).toEqual({ got: oneTo(150), resyncs: 0, errors: [] });
      }
      const after = await Promise.all(rest.map((p) => p.evaluate(() => window.harness.role())));
      expect(after.filter((r) => r === 'leader')).toHaveLength(1);
      const stats = await server.stats();
      expect(stats.sessions).toBe(1);
      expect(stats.said).toEqual({ 0: oneTo(20), 1: oneTo(20), 2: oneTo(20) });
      console.log(`[share ${name}] websocket connections over the test: ${stats.connections.websocket}; roles ${JSON.stringify(roles)} then ${JSON.stringify(after)}`);
    } finally {
      for (const page of pages) await page.close().catch(() => {});
      await server.stop();
    }
  }, 90_000);
});
