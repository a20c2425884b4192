import type { ClientGroup, GroupSnapshot } from './soak';
import { launchChromium } from '../../support/chromium';

/** Clients from the UMD bundle in one Chromium page served by the server under test (through the fault proxy). */
export function browserClients(count: number): (url: string) => Promise<ClientGroup> {
  return async (url) => {
    const browser = await launchChromium();
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${new URL(url).origin}/soak/page.html?clients=${count}`);
    type Soak = { snapshot(): GroupSnapshot; stopTraffic(): void; close(): void };
    const soak = (): Soak => (window as unknown as { soak: Soak }).soak;
    return {
      async snapshot() {
        if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
        return page.evaluate(`(${soak.toString()})().snapshot()`) as Promise<GroupSnapshot>;
      },
      async stopTraffic() {
        await page.evaluate(`(${soak.toString()})().stopTraffic()`);
      },
      async close() {
        await page.evaluate(`(${soak.toString()})().close()`).catch(() => {});
        await browser.close();
      },
    };
  };
}
