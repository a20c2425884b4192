/**
 * Helpers for the demo-page tests: the demo server in-process on a fresh port, a page in any browser of
 * test/support/browsers, and typed reads of `window.demo` (see demo/app.js). Waits run inside the page.
 */
import type { TestBrowser, TestPage } from '../../support/browsers';
import { startDemoServer, type DemoServer } from '../../../demo/server.mjs';

export interface TimelineEntry {
  transport: string;
  outcome: 'open' | 'failed' | 'dropped' | 'probe-failed' | 'upgrade';
  ms: number | null;
  detail: string;
  at: number;
}

export interface PageView {
  state: string;
  transport: string | null;
  sessionId: string | null;
  stats: { lastTick: number | null; received: number; gaps: number; dups: number; resyncs: number; attempts: number; startedAt: number };
  timeline: TimelineEntry[];
  counted: number[];
  chat: { user: string; text: string; room: string | null }[];
}

/** The demo server on a free port with a fast tick stream; quiet unless DEBUG_DEMO is set. */
export function startServer(options: { heartbeatMs?: number } = {}): Promise<DemoServer> {
  return startDemoServer({ port: 0, tickMs: 200, ...options, log: process.env.DEBUG_DEMO ? console.log : () => {} });
}

/** A page of the demo; `page.errors()` has its console and page errors (see test/support/browsers/page.ts). */
export async function openDemo(browser: TestBrowser, demo: Pick<DemoServer, 'url'>, query = ''): Promise<TestPage> {
  const page = await browser.newPage();
  await page.goto(demo.url + (query ? `?${query}` : ''));
  return page;
}

/** What the page knows now. */
export function view(page: TestPage): Promise<PageView> {
  return page.evaluate(() => {
    const d = (window as unknown as { demo: { client: { state: string; transport: string | null; sessionId: string | null } } & Omit<PageView, 'state' | 'transport' | 'sessionId'> }).demo;
    return {
      state: d.client.state,
      transport: d.client.transport,
      sessionId: d.client.sessionId,
      stats: { ...d.stats },
      timeline: d.timeline.map((e) => ({ ...e })),
      counted: [...d.counted],
      chat: d.chat.map((c) => ({ ...c })),
    };
  });
}

/** Waits until the client is open on `transport`. */
export async function waitOpen(page: TestPage, transport: string, timeout = 10_000): Promise<void> {
  await page.waitFor(
    (t) => {
      const c = (window as unknown as { demo: { client: { state: string; transport: string } } }).demo.client;
      return c.state === 'open' && c.transport === t;
    },
    transport,
    { timeout, what: `open on ${transport}` },
  );
}

/** Waits until at least `n` more ticks than `from` were received. */
export async function waitTicks(page: TestPage, from: number, n: number, timeout = 5_000): Promise<void> {
  await page.waitFor(([f, k]) => (window as unknown as { demo: { stats: { received: number } } }).demo.stats.received >= f! + k!, [from, n], { timeout, what: `${n} ticks after ${from}` });
}

/** Waits until the page has received at least `n` numbers of its `count` stream. */
export async function waitCounted(page: TestPage, n: number, timeout = 10_000): Promise<void> {
  await page.waitFor((k) => (window as unknown as { demo: { counted: number[] } }).demo.counted.length >= k, n, { timeout, what: `${n} counted` });
}

/** Starts this page's `count` stream: 1..to, one every `everyMs`. */
export async function startCount(page: TestPage, to: number, everyMs: number): Promise<void> {
  await page.evaluate(
    ([t, e]) => (window as unknown as { demo: { client: { request(e: string, d: unknown): Promise<unknown> } } }).demo.client.request('count', { to: t, everyMs: e }),
    [to, everyMs],
  );
}

/** Lets `ms` pass in the page (a duplicate that is still on its way arrives meanwhile). */
export async function pause(page: TestPage, ms: number): Promise<void> {
  await page.evaluate((t) => new Promise((r) => setTimeout(r, t)), ms);
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
