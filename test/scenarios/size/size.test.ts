/**
 * Bundle-size budget (deterministic, so it runs in `npm test`, which builds dist/ first).
 *
 * The issue's budgets are 8 KB gzip for the tree-shaken ESM default import and 11 KB gzip for the full minified UMD.
 * They are not met yet; the enforced CEILING is the size measured when this test was written plus a little headroom,
 * so growth fails CI, and the remaining gap to the target is printed on every run. Lower the ceilings as the
 * bundle shrinks. How each figure is measured (and why "WebSocket-only" equals the ESM default): bench/size.mjs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureOurs, TARGETS, kb, ROOT, type Size } from '../../../bench/size.mjs';

/**
 * Enforced ceilings (gzip -9 bytes). History: 11,719 (ESM default) and ~17,910 (UMD) after origin_rejected and the
 * buffered-stream check landed; 11,772 / 17,969 before issue 12's refactor. That refactor (the client split into
 * modules, the transports' shared code written once) cost 1,329 bytes of UMD (19,298: small modules compress worse
 * than one large one), while the ESM default fell to 10,357 once SSE and polling became a chunk loaded on first use;
 * the UMD fell to 15,010 once it left out event-source-polyfill (an ES2020 bundle only runs where fetch exists, and
 * SSE reads with fetch where EventSource does not serve). Issue 13's client features then added 665 / 645 bytes
 * (option shape checks and unknown-name warnings, the debug switch, transport_failed per walk, the headers-only
 * WebSocket skip): 11,032 / 15,655. Keeping the secret and the token out of URLs, the fallback event: 11,288 /
 * 16,089. The race (issue 15: the next transport alongside one that has not welcomed within 1 s) +438 / +418, the
 * join key +71 / +90: 11,794 / 16,604. The upgrade probe moved to a chunk loaded only on a fallback: 11,634 / 16,841
 * (the loader costs the UMD, which inlines both parts, 237 bytes). Issue 17: the attempt floor, the back/forward cache
 * and the late-timer yield +306 / +492; `persist` (its options, hooks, forget() and resume: 'skip'; the IndexedDB code
 * and the persistence itself are a lazy chunk) +584 / +1,271: 12,524 / 18,367. Sharing tabs (issue 16) is an entry of
 * its own (realtime-fallback/share), so the ESM default pays only the option and the constructor's hook, +165: 12,689;
 * the script-tag build carried it too (+5,328: 23,695) until sharing got a script-tag file of its own
 * (realtime-fallback.share.umd.min.js, 24,154): the default one is 18,533. Bad input says where (from 12,873 /
 * 18,680): naming the place of a BigInt or a cycle in an emit (a walk of its own, run only when JSON.stringify threw;
 * the development-only warnings are left out of both) and reporting an error no listener hears, +462 / +589 (the UMD
 * also carries the fetch failures' causes). A race that settles behind a proxy that holds event streams (the race
 * moved to its own module; the welcome hold and stale strikes a chunk loaded with the first racer;
 * docs/design/stale-welcomes.md): +490 / +1,045 measured alone. Both together: 13,840 / 20,342. Measured 13,875 /
 * 20,513 after the size limit's checks. One session core for the client and the leading tab (the connector split into
 * an attempt pipeline, frame checks and page signals): 14,183 / 20,917, +308 / +404, though only +88 / +86 minified:
 * the repeated code it replaced compressed better. Ceilings: those figures plus ~0.5%, to be won back by the wire and
 * build work of the size issue.
 */
const CEILING = { esmDefaultGzip: 14_250, umdGzip: 21_000 };

describe('bundle size', () => {
  it('stays under the enforced ceilings (and reports the gap to the target budgets)', async () => {
    for (const f of ['dist/index.mjs', 'dist/realtime-fallback.umd.min.js']) {
      expect(existsSync(path.join(ROOT, f)), `${f} missing: run npm run build (npm test does)`).toBe(true);
    }
    const m = await measureOurs();
    const line = (name: string, s: Omit<Size, 'lazy'>, target?: number) =>
      `${name.padEnd(34)} min ${kb(s.min).padStart(9)}  gzip ${kb(s.gzip).padStart(9)}  brotli ${kb(s.brotli).padStart(9)}` +
      (target === undefined ? '' : `  target ${kb(target)} gzip: ${s.gzip <= target ? 'met' : `${kb(s.gzip - target)} over`}`);
    console.log(
      [
        line('ESM default (RealtimeClient)', m.esm, TARGETS.esmDefaultGzip),
        m.esm.lazy ? line('  lazy chunks (SSE + polling, polyfill, plain mode; not counted)', m.esm.lazy) : '  (no lazy chunk)',
        line('WebSocket-only import (= default)', m.esm),
        line('  estimate with SSE+polling stubbed', m.wsOnlyEstimate),
        line('UMD min (everything but the polyfill)', m.umd, TARGETS.umdGzip),
      ].join('\n'),
    );
    expect(m.esm.lazy, 'event-source-polyfill must stay in a lazy chunk').not.toBeNull();
    // Loaded on first need only, each recognised by a message of its own: the HTTP transports, plain mode's
    // transports, the upgrade probe (it only ever runs on a fallback), the polyfill.
    const upFront = m.esm.initialText ?? '';
    expect(upFront).toContain('RealtimeClient');
    for (const [part, marker] of [
      ['the long-polling transport', 'poll answered with Content-Type'],
      ['plain mode\'s transports', 'poll answer is not JSON'],
      ['the upgrade probe', 'instead of a probe welcome'],
      ['persistence', 'realtime-fallback.tab'],
      ['its IndexedDB store', 'IndexedDB is not available'],
      ['event-source-polyfill', 'No activity within'],
    ]) {
      expect(upFront.includes(marker!), `${part} must stay in a lazy chunk`).toBe(false);
    }
    expect(m.esm.gzip).toBeLessThanOrEqual(CEILING.esmDefaultGzip);
    expect(m.umd.gzip).toBeLessThanOrEqual(CEILING.umdGzip);
  }, 60_000);
});
