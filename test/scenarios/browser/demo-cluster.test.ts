/**
 * `npm run demo -- --nodes 3` in real Chromium, Firefox and WebKit (test/support/browsers): the demo page in front of
 * three node processes on one redis-server, behind the round-robin balancer (demo/cluster.mjs), all started here on
 * free ports. The page's "Kill this node"
 * SIGKILLs the node holding its WebSocket; the session carries on on another node with the tick stream and the
 * per-session counter intact. Afterwards nothing the cluster started may still run.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDemoCluster, type DemoCluster } from '../../../demo/cluster.mjs';
import { browsersUnderTest, launchBrowser, type TestBrowser, type TestPage } from '../../support/browsers';
import { openDemo, pause, range, startCount, view, waitCounted, waitOpen, waitTicks } from './demo-page';

let cluster: DemoCluster | undefined;

afterEach(async () => {
  const started = cluster?.pids() ?? [];
  await cluster?.close();
  cluster = undefined;
  // Every process the cluster started is gone (killed by pid and reaped), and no redis-server or node is left among
  // this worker's children (the browser is one of them, so filter by name). Other test files may run their own Redis,
  // so a machine-wide pgrep would not say anything about this one.
  expect(started.filter(running)).toEqual([]);
  expect(childProcesses().filter((p) => /\b(redis-server|node)\b/.test(p))).toEqual([]);
});

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pgrep -l -P <this process>`: "pid name" lines; pgrep exits 1 when there are none. */
function childProcesses(): string[] {
  try {
    return execFileSync('pgrep', ['-l', '-P', String(process.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The node name the page shows (`–` until the first `node` event). */
const shownNode = (page: TestPage): Promise<string> => page.textContent('#node').then((t) => t ?? '');

const report = (browser: string, line: string): void => console.log(`[e2e cluster ${browser}] ${line}`);

describe.each(browsersUnderTest())('demo cluster (npm run demo -- --nodes 3) in %s', (name) => {
  let browser: TestBrowser;
  beforeAll(async () => {
    browser = await launchBrowser(name);
  }, 60_000);
  afterAll(() => browser?.close());

  it('kill the node holding the page: the session resumes on another node, no gap, no duplicate, no resync', async () => {
    cluster = await startDemoCluster({ nodes: 3, port: 0, tickMs: 200, log: process.env.DEBUG_DEMO ? console.log : () => {} });
    const page = await openDemo(browser, cluster);
    try {
      await waitOpen(page, 'websocket');
      await page.waitFor(() => /^node-\d+$/.test(document.getElementById('node')!.textContent ?? ''), undefined, { what: 'the node shown' });
      const first = await shownNode(page);
      expect(cluster.nodes().map((n) => n.name)).toContain(first);
      expect(await page.evaluate(() => document.getElementById('kill-node')!.checkVisibility())).toBe(true);

      const total = 300;
      await startCount(page, total, 20); // 6 s of counting; the kill comes well before the end
      await waitCounted(page, 30);
      await waitTicks(page, 0, 5);
      const before = await view(page);

      const clickedAt = Date.now();
      await page.click('#kill-node');
      await page.waitFor((was) => /^node-\d+$/.test(document.getElementById('node')!.textContent ?? '') && document.getElementById('node')!.textContent !== was, first, {
        timeout: 10_000,
        pollMs: 10,
        what: 'another node shown',
      });
      const movedAfter = Date.now() - clickedAt;
      const second = await shownNode(page);
      await waitOpen(page, 'websocket');
      const moved = await view(page);
      await waitTicks(page, moved.stats.received, 5);
      await waitCounted(page, total, 15_000);
      await pause(page, 300); // a duplicate would arrive now

      const v = await view(page);
      expect(second).not.toBe(first);
      expect(v.sessionId).toBe(before.sessionId);
      expect(v.stats).toMatchObject({ gaps: 0, dups: 0, resyncs: 0 });
      expect(v.counted).toEqual(range(total));
      expect(await page.textContent('#count-ok')).toBe('yes');
      expect(await page.textContent('#gaps')).toBe('0');
      expect(await page.textContent('#dups')).toBe('0');
      expect(await page.textContent('#resyncs')).toBe('0');
      // The connection dropped once (the kill) and was resumed, not replaced by a new session.
      const afterKill = v.timeline.slice(before.timeline.length);
      expect(afterKill.map((e) => e.outcome)).toEqual(['dropped', 'open']);
      expect(afterKill[1]!.detail).toBe('session resumed');
      // The counter was still running when the session moved: its later numbers came through the new node.
      expect(moved.counted.length).toBeLessThan(total);

      // The killed node comes back on its port (restartMs 3000), and the page's node list says so.
      await page.waitFor(
        () => {
          const nodes = (window as unknown as { demo: { cluster: { nodes: { alive: boolean }[] } } }).demo.cluster.nodes;
          return nodes.length === 3 && nodes.every((n) => n.alive);
        },
        undefined,
        { timeout: 10_000, pollMs: 50, what: 'all three nodes alive' },
      );
      expect(await page.errors()).toEqual([]);
      report(
        name,
        `killed ${first} at count ${before.counted.length}: the page showed ${second} ${movedAfter} ms after the click ` +
          `(reconnect ${afterKill[1]!.ms} ms after the drop was noticed); session ${before.sessionId?.slice(0, 8)}… kept; ` +
          `${v.stats.received} ticks and ${v.counted.length} counts, 0 gaps, 0 duplicates, 0 resyncs; ${first} back after restart`,
      );
    } finally {
      await page.close().catch(() => {});
    }
  }, 60_000);
});
