/**
 * Chromium only (its native EventSource, which queues each event as a task of its own): behind a proxy that refuses
 * WebSocket and holds every event stream until it ends (test/scenarios/proxy/buffering-proxy.ts), the race settles
 * on polling and stays there, with messages both ways, each exactly once. The Node twin of this test, with the server's
 * handler runs counted the same way, is test/scenarios/proxy/buffering-proxy.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../../src/server';
import { launchChromium } from '../../support/chromium';
import { startBufferingProxy, type BufferingProxy } from '../proxy/buffering-proxy';
import { CLIENT_PAGE, inOrder, readLog, sleep, startCountingServer, streamNumbers, waitIn, type CountingServer } from './counting-server';

/** How long the page must stay on polling once it got there. */
const SETTLED_FOR_MS = 10_000;

let server: CountingServer;
let proxy: BufferingProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
/** Handler runs per emitted `n`, over every session. */
const runs = new Map<number, number>();

beforeAll(async () => {
  const numbers = streamNumbers(50);
  server = await startCountingServer({
    pages: { '/app': CLIENT_PAGE },
    heartbeatMs: 500,
    onSession: (session: Session) => {
      numbers(session);
      session.on('say', (n) => void runs.set(n as number, (runs.get(n as number) ?? 0) + 1));
    },
  });
  proxy = await startBufferingProxy({ host: '127.0.0.1', port: Number(new URL(server.origin).port) });
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await proxy?.close();
  await server?.close();
});

describe('Chromium behind a proxy that refuses WebSocket and holds event streams until they end', () => {
  it('settles on polling and stays there; emits run once, messages arrive once and in order', async () => {
    const page = await chromium.context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${proxy.port}/app`);
      await page.evaluate(() => {
        let n = 0;
        const w = window as unknown as { pump: number; sent: () => number; client: { emit(e: string, d: number): void } };
        w.pump = window.setInterval(() => w.client.emit('say', ++n), 50);
        w.sent = () => n;
      });
      await waitIn(page, "window.client.state === 'open' && window.client.transport === 'polling'", 5_000);
      const settledAt = (await readLog(page)).events.find((e) => e.type === 'open')!.at;
      await sleep(SETTLED_FOR_MS);
      const log = await readLog(page);
      expect(log.events.filter((e) => e.type === 'open').map((e) => e.transport), 'opens').toEqual(['polling']);
      expect(log.events.filter((e) => e.type === 'transport' && e.at > settledAt), 'transport changes after settling').toEqual([]);
      expect(log.events.filter((e) => e.type === 'resync')).toEqual([]);

      const sent = await page.evaluate(() => {
        const w = window as unknown as { pump: number; sent: () => number };
        clearInterval(w.pump);
        return w.sent();
      });
      await waitIn(page, 'window.client.queued.messages === 0', 10_000);
      expect(sent).toBeGreaterThan(SETTLED_FOR_MS / 50 / 2);
      const notOnce = Array.from({ length: sent }, (_, i) => i + 1).filter((n) => runs.get(n) !== 1);
      expect(notOnce, 'emits whose handler did not run exactly once').toEqual([]);
      const got = (await readLog(page)).got;
      expect(got.length).toBeGreaterThan(SETTLED_FOR_MS / 50 / 2);
      expect(inOrder(got), `messages 1..${got.length} once each, in order`).toBe(true);
      expect(server.sessions).toHaveLength(1);
    } finally {
      await page.close();
    }
  }, SETTLED_FOR_MS + 40_000);
});
