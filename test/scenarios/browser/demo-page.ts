/**
 * Helpers for the demo-page tests: the demo server in-process on a fresh port, a page with its console errors
 * collected, and typed reads of `window.demo` (see demo/app.js).
 */
import type { BrowserContext, Page } from 'playwright-core';
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

/** A page of the demo, with every console error and page error recorded in `errors`. */
export async function openDemo(context: BrowserContext, demo: Pick<DemoServer, 'url'>, query = ''): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(demo.url + (query ? `?${query}` : ''));
  return { page, errors };
}

/** What the page knows now. */
export function view(page: Page): Promise<PageView> {
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
export async function waitOpen(page: Page, transport: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (t) => {
      const c = (window as unknown as { demo: { client: { state: string; transport: string } } }).demo.client;
      return c.state === 'open' && c.transport === t;
    },
    transport,
    { timeout, polling: 20 },
  );
}

/** Waits until at least `n` more ticks than `from` were received. */
export async function waitTicks(page: Page, from: number, n: number, timeout = 5_000): Promise<void> {
  await page.waitForFunction(
    ([f, k]) => (window as unknown as { demo: { stats: { received: number } } }).demo.stats.received >= f! + k!,
    [from, n],
    { timeout, polling: 20 },
  );
}

/** Waits until the page has received at least `n` numbers of its `count` stream. */
export async function waitCounted(page: Page, n: number, timeout = 10_000): Promise<void> {
  await page.waitForFunction((k) => (window as unknown as { demo: { counted: number[] } }).demo.counted.length >= k, n, { timeout, polling: 20 });
}

/** Starts this page's `count` stream: 1..to, one every `everyMs`. */
export async function startCount(page: Page, to: number, everyMs: number): Promise<void> {
  await page.evaluate(
    ([t, e]) => (window as unknown as { demo: { client: { request(e: string, d: unknown): Promise<unknown> } } }).demo.client.request('count', { to: t, everyMs: e }),
    [to, everyMs],
  );
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
