/**
 * Firefox ESR through puppeteer-core over WebDriver BiDi, headless (no display needed). playwright-core cannot drive
 * stock Firefox (its Juggler protocol needs Playwright's own build), so this is the one place puppeteer-core is used.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import type { Driver } from './chromium';

export const firefoxPath = (): string => process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export async function launch(options: { ignoreHTTPSErrors?: boolean }): Promise<Driver> {
  const profile = mkdtempSync(join(tmpdir(), 'rf-firefox-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: firefoxPath(),
      headless: true,
      userDataDir: profile,
      acceptInsecureCerts: options.ignoreHTTPSErrors ?? false,
      // A closed network: nothing to update, report or prefetch.
      extraPrefsFirefox: { 'network.dns.disablePrefetch': true, 'network.prefetch-next': false, 'app.update.enabled': false },
      timeout: 30_000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Firefox did not start from ${firefoxPath()} (Debian: apt-get install firefox-esr; or set FIREFOX_PATH): ${String(e)}`, { cause: e });
  }
  const b = browser;
  return {
    async newPage() {
      const page = await b.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
      return {
        goto: async (url) => void (await page.goto(url)),
        evaluateExpression: (expression) => page.evaluate(expression),
        errors: async () => [...errors],
        close: () => page.close(),
      };
    },
    async close() {
      try {
        await b.close();
      } finally {
        // puppeteer's close kills the process; make sure even if the protocol close failed.
        const proc = b.process();
        if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
