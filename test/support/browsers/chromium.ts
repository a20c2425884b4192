/** Chromium through playwright-core (DevTools protocol), with the launcher the Chromium-only tests use. */
import type { Page } from 'playwright-core';
import { launchChromium } from '../chromium';
import type { DriverPage } from './page';

export interface Driver {
  newPage(): Promise<DriverPage>;
  close(): Promise<void>;
}

/** A playwright page as a driver page: Chromium-only tests keep DevTools features and still use the shared helpers. */
export function driverPage(page: Page): DriverPage {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return {
    goto: async (url) => void (await page.goto(url)),
    evaluateExpression: (expression) => page.evaluate(expression),
    errors: async () => [...errors],
    close: () => page.close(),
  };
}

export async function launch(options: { ignoreHTTPSErrors?: boolean }): Promise<Driver> {
  const browser = await launchChromium(options);
  return {
    newPage: async () => driverPage(await browser.context.newPage()),
    close: () => browser.close(),
  };
}
