import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../scripts/chromium.mjs';

/** `npm test` finds (or installs) Chromium and passes its path; running vitest directly falls back to Debian's. */
export const chromiumPath = (): string => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A headless Chromium with a fresh profile, as the README describes; `close()` removes the profile.
 * `ignoreHTTPSErrors` accepts the certificates tests make on the fly.
 */
export async function launchChromium(
  options: { ignoreHTTPSErrors?: boolean; backForwardCache?: boolean } = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'rf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS.filter((a) => a !== '--headless'),
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
    // playwright-core turns the back/forward cache off by default; tests of what a cached page does turn it back on.
    ...(options.backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
