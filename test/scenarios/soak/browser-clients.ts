import type { ClientGroup, GroupSnapshot } from './types';
import { launchBrowser, pageFaults, type BrowserName } from '../../support/browsers';

/**
 * Clients from the UMD bundle in one page of `browser` (test/support/browsers) served by the server under test
 * (through the fault proxy).
 */
export function browserClients(count: number, browser: BrowserName = 'chromium'): (url: string) => Promise<ClientGroup> {
  return async (url) => {
    const b = await launchBrowser(browser);
    try {
      const page = await b.newPage();
      await page.goto(`${new URL(url).origin}/soak/page.html?clients=${count}`);
      return {
        async snapshot() {
          // Refused, hung and reset connections are the soak's faults: the browser's own lines about them are expected.
          const errors = pageFaults(browser, await page.errors());
          if (errors.length > 0) throw new Error(`${browser} page errors: ${errors.join('; ')}`);
          return page.evaluate<GroupSnapshot>('window.soak.snapshot()');
        },
        async stopTraffic() {
          await page.evaluate('window.soak.stopTraffic()');
        },
        async close() {
          await page.evaluate('window.soak.close()').catch(() => {});
          await b.close();
        },
      };
    } catch (e) {
      await b.close();
      throw e;
    }
  };
}
