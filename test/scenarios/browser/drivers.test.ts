/**
 * The browser drivers every cross-browser test runs on (test/support/browsers): in each browser a page loads,
 * evaluates functions and expressions (promises awaited), waits inside the page, reports its errors, and after
 * `close()` nothing the launch started is still running. A browser that cannot start says what is missing.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browsersUnderTest, launchBrowser, type BrowserName, type TestBrowser } from '../../support/browsers';

let http: Server;
let origin: string;

beforeAll(async () => {
  http = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><link rel="icon" href="data:,"><title>driver</title><p id="p">hello</p>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => http?.close(resolve));
});

/** This worker's descendants ("pid name" lines): what a launch started and close() must end. */
function descendants(): string[] {
  const out: string[] = [];
  const walk = (pid: number): void => {
    let lines: string[] = [];
    try {
      lines = execFileSync('pgrep', ['-l', '-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    } catch {
      // none
    }
    for (const line of lines) {
      out.push(line);
      walk(Number(line.split(' ')[0]));
    }
  };
  walk(process.pid);
  return out;
}

/** What each browser reports for `console.error('bad')` and an uncaught `new Error('boom')` thrown by a timer. */
const expectedErrors: Record<BrowserName, string[]> = {
  chromium: ['bad', 'pageerror: boom'],
  firefox: ['bad', 'pageerror: Error: boom'],
  // From the page's own collector (no console access over WebDriver classic): the error event's message.
  webkit: ['bad', 'pageerror: Error: boom'],
};

describe.each(browsersUnderTest())('browser driver: %s', (name) => {
  let browser: TestBrowser;
  let before: string[];
  beforeAll(async () => {
    before = descendants();
    browser = await launchBrowser(name);
  }, 60_000);
  afterAll(() => browser?.close());

  it('evaluates, waits in the page, reads the DOM and collects the page errors; two pages are independent', async () => {
    const page = await browser.newPage();
    await page.goto(origin + '/');
    expect(await page.evaluate((n: number) => new Promise<number>((r) => setTimeout(() => r(n + 1), 10)), 41)).toBe(42);
    expect(await page.evaluate<string>('document.title')).toBe('driver');
    expect(await page.textContent('#p')).toBe('hello');
    await page.evaluate(() => {
      setTimeout(() => ((window as unknown as { late: boolean }).late = true), 100);
    });
    expect(await page.waitFor(() => (window as unknown as { late?: boolean }).late, undefined, { timeout: 2000 })).toBe(true);
    await expect(page.waitFor(() => false, undefined, { timeout: 100, what: 'never' })).rejects.toThrow(`${name}: timed out after 100 ms waiting for never`);
    await page.evaluate(() => {
      console.error('bad');
      setTimeout(() => {
        throw new Error('boom');
      });
    });
    await page.waitFor(() => true);
    await new Promise((r) => setTimeout(r, 200));
    expect(await page.errors()).toEqual(expectedErrors[name]);

    const other = await browser.newPage();
    await other.goto(origin + '/');
    await other.evaluate(() => (document.getElementById('p')!.textContent = 'other'));
    expect(await other.textContent('#p')).toBe('other');
    expect(await page.textContent('#p')).toBe('hello');
    expect(await other.errors()).toEqual([]);
    await other.close();
    expect(await page.textContent('#p')).toBe('hello');
    await page.close();
  });

  it('close() leaves nothing running that the launch started', async () => {
    expect(descendants().length).toBeGreaterThan(before.length);
    await browser.close();
    // Processes killed by their group may take a moment to be reaped.
    const deadline = Date.now() + 5000;
    let left = descendants();
    while (left.length > before.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = descendants();
    }
    expect(left).toEqual(before);
  });
});

describe('a browser that cannot start', () => {
  it('fails saying what is missing', async () => {
    const saved = { ...process.env };
    try {
      process.env.FIREFOX_PATH = '/nonexistent/firefox';
      await expect(launchBrowser('firefox')).rejects.toThrow(/Firefox did not start from \/nonexistent\/firefox/);
      process.env.WEBKIT_DRIVER_PATH = '/nonexistent/WebKitWebDriver';
      await expect(launchBrowser('webkit')).rejects.toThrow('WebKit tests need WebKitWebDriver at /nonexistent/WebKitWebDriver (Debian: apt-get install webkit2gtk-driver');
    } finally {
      process.env = saved;
    }
  });
});
