/**
 * One way to run a browser test in Chromium, Firefox and WebKit:
 *
 *   describe.each(browsersUnderTest())('... in %s', (name) => {
 *     let browser: TestBrowser;
 *     beforeAll(async () => void (browser = await launchBrowser(name)), 60_000);
 *     afterAll(() => browser?.close());
 *     it('...', async () => { const page = await browser.newPage(); await page.goto(url); await page.evaluate(...) });
 *   });
 *
 * `BROWSERS=chromium` (a comma list: `BROWSERS=chromium,firefox`) runs a subset; the default is all three (parsed by
 * scripts/browsers.mjs, which `npm test` also uses to find or install them). A browser that cannot start fails its
 * tests saying what is missing; it is never skipped. Chromium-only features (DevTools:
 * offline emulation, request interception, screenshots) stay with `launchChromium()` in ../chromium.ts.
 */
import * as chromium from './chromium';
import { ALL_BROWSERS as ALL, parseBrowsers } from '../../../scripts/browsers.mjs';
import { wrapPage, type BrowserName, type TestPage } from './page';

export type { BrowserName, TestPage } from './page';

export const ALL_BROWSERS: readonly BrowserName[] = ALL;

/** The browsers this run covers: `BROWSERS` (comma list) or all three; an unknown name is an error, not a skip. */
export function browsersUnderTest(env: string | undefined = process.env.BROWSERS): BrowserName[] {
  return parseBrowsers(env);
}

/**
 * Lines a browser reports by itself for a connection that failed or was cut, among a page's errors: the network's
 * doing, not the page's. Chromium prints console errors; Firefox reports page errors (with the URL, query included);
 * WebKit shows none (no console over WebDriver classic). A test that injects network faults drops these and keeps
 * the rest; one that does not asserts the exact lines (demo.test.ts).
 */
export const NETWORK_ERROR_LINES: Record<BrowserName, readonly RegExp[]> = {
  chromium: [/^WebSocket connection to '[^']*' failed: /, /^Failed to load resource: /],
  firefox: [/^pageerror: Firefox can’t establish a connection to the server at \S+\.$/, /^pageerror: The connection to \S+ was interrupted while the page was loading\.$/],
  webkit: [],
};

/** `errors` less the browser's own network lines (see NETWORK_ERROR_LINES). */
export function pageFaults(name: BrowserName, errors: readonly string[]): string[] {
  return errors.filter((e) => !NETWORK_ERROR_LINES[name].some((line) => line.test(e)));
}

export interface TestBrowser {
  readonly name: BrowserName;
  newPage(): Promise<TestPage>;
  /** Closes every page and the browser, kills its processes and removes its profile. */
  close(): Promise<void>;
}

/** Firefox's and WebKit's drivers load only when launched (puppeteer-core is not needed for a Chromium-only run). */
const drivers: Record<BrowserName, () => Promise<{ launch: typeof chromium.launch }>> = {
  chromium: async () => chromium,
  firefox: () => import('./firefox'),
  webkit: () => import('./webkit'),
};

/** A page of `launchChromium()` (playwright-core) with the common interface, for tests that also need DevTools. */
export const chromiumPage = (page: import('playwright-core').Page): TestPage => wrapPage('chromium', chromium.driverPage(page));

/** Starts `name` with a fresh profile. `ignoreHTTPSErrors` accepts the certificates tests make on the fly. */
export async function launchBrowser(name: BrowserName, options: { ignoreHTTPSErrors?: boolean } = {}): Promise<TestBrowser> {
  const driver = await (await drivers[name]()).launch(options);
  let closed = false;
  return {
    name,
    newPage: async () => wrapPage(name, await driver.newPage()),
    async close() {
      if (closed) return;
      closed = true;
      await driver.close();
    },
  };
}
