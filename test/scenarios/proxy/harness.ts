/**
 * The proxy rig: the app (reference server + test page) as a child process, nginx in front of it, and browser pages
 * (test/support/browsers) loaded through nginx. `cleanup()` stops every part on every exit path.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CreateServerOptions } from '../../../src/server';
import { pageFaults, type TestBrowser, type TestPage } from '../../support/browsers';
import type { FromApp, ToApp } from './app-server';
import { stopAllNginx } from './nginx';

export type AppStats = Extract<FromApp, { t: 'stats' }>;

export interface App {
  port: number;
  stats(): Promise<AppStats>;
  stopTicks(): void;
  kill(): Promise<void>;
}

const apps = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of apps) child.kill('SIGKILL');
});

/**
 * The app on a free port; `options` are server options (JSON: no functions). It ticks every `tickMs`; each tick
 * carries `tickPad` random characters when given.
 */
export async function startApp(options: Omit<CreateServerOptions, 'server' | 'logger'> = {}, tickMs = 20, tickPad = 0): Promise<App> {
  const child = fork(fileURLToPath(new URL('./app-server.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, RT_OPTIONS: JSON.stringify(options), TICK_MS: String(tickMs), TICK_PAD: String(tickPad) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  apps.add(child);
  child.once('exit', () => apps.delete(child));
  const next = <T extends FromApp['t']>(type: T, timeoutMs: number): Promise<Extract<FromApp, { t: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => (child.off('message', on), reject(new Error(`app: no ${type} within ${timeoutMs} ms`))), timeoutMs);
      const on = (m: FromApp): void => {
        if (m.t !== type) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(m as Extract<FromApp, { t: T }>);
      };
      child.on('message', on);
    });
  const { port } = await next('ready', 20_000);
  const send = (m: ToApp): void => void child.send(m);
  return {
    port,
    stats: () => {
      const reply = next('stats', 5000);
      send({ t: 'stats' });
      return reply;
    },
    stopTicks: () => send({ t: 'stop-ticks' }),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

export interface PageSnapshot {
  ticks: Record<string, number[]>;
  arrivals: number[];
  transports: { transport: string; reason: string; at: number }[];
  failures: { transport: string; kind: string; code: string | null; probe: boolean; at: number }[];
  resyncs: number;
  accepted: number;
  closed: { reason: string; code: string | null; message: string | null; isRealtimeError: boolean } | null;
  errors: string[];
  now: number;
  state: string;
  transport: string | null;
  queued: number;
}

const pages = new Set<TestPage>();

/**
 * A page of `browser` (launched with `ignoreHTTPSErrors`) on `pageUrl` (test/proxy/page.js). `pageErrors()` are its
 * errors less the browser's own lines about connections that failed or were cut (nginx killed, upgrades refused).
 */
export async function openPage(browser: TestBrowser, pageUrl: string): Promise<{ page: TestPage; snapshot(): Promise<PageSnapshot>; pageErrors(): Promise<string[]> }> {
  const page = await browser.newPage();
  pages.add(page);
  await page.goto(pageUrl);
  return {
    page,
    pageErrors: async () => pageFaults(browser.name, await page.errors()),
    snapshot: () => page.evaluate<PageSnapshot>('window.proxyTest.snapshot()'),
  };
}

/** Polls `read` until `cond` holds of it; the error names what was awaited and the last value seen. */
export async function waitFor<T>(read: () => Promise<T>, cond: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (cond(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(v).slice(0, 600)}`);
    await sleep(50);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every session's ticks are 1..k with nothing missing or repeated; returns how many were delivered in all. */
export function checkTicks(ticks: Record<string, number[]>): { delivered: number; problems: string[] } {
  let delivered = 0;
  const problems: string[] = [];
  for (const [sid, list] of Object.entries(ticks)) {
    delivered += list.length;
    list.forEach((n, i) => {
      if (n !== i + 1 && problems.length < 5) problems.push(`session ${sid.slice(0, 6)}: tick #${i + 1} was ${n}`);
    });
  }
  return { delivered, problems };
}

/** Closes every page, nginx and app (afterEach); the browsers are the test file's. */
export async function cleanup(appsToKill: App[]): Promise<void> {
  for (const page of pages) await page.close().catch(() => {});
  pages.clear();
  await stopAllNginx();
  await Promise.all(appsToKill.map((a) => a.kill()));
}
