/**
 * The one page interface every browser test is written against (see index.ts). Each driver (chromium.ts, firefox.ts,
 * webkit.ts) implements `evaluateExpression` and `errors`; everything else is built on those here, so it behaves the
 * same in every browser.
 */

export type BrowserName = 'chromium' | 'firefox' | 'webkit';

export interface DriverPage {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Evaluates a JavaScript expression in the page; a promise is awaited; the result must be JSON-serialisable. */
  evaluateExpression(expression: string): Promise<unknown>;
  /**
   * Errors the page reported: uncaught exceptions, unhandled rejections and console.error lines. Chromium and Firefox
   * report them through the protocol (including what the browser itself prints, e.g. a CSP violation); WebKit has no
   * console access, so its page gets a collector once `goto` returns (see webkit.ts) and sees only the page's own.
   */
  errors(): Promise<string[]>;
  close(): Promise<void>;
}

export interface TestPage extends Omit<DriverPage, 'evaluateExpression'> {
  readonly browser: BrowserName;
  /**
   * Runs `fn(arg)` in the page and returns its (awaited) result. `fn` is sent as source text, so it may use only its
   * argument (JSON) and the page's globals, never variables of the test.
   */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  /** Evaluates an expression (e.g. `'window.proxyTest.snapshot()'`). */
  evaluate<R = unknown>(expression: string): Promise<R>;
  /**
   * Waits until `fn(arg)` is truthy in the page, checking every `pollMs` (20) inside the page (one round trip), and
   * returns that value; fails after `timeout` ms naming `what` and the last value.
   */
  waitFor<R, A = undefined>(fn: (arg: A) => R, arg?: A, options?: { timeout?: number; pollMs?: number; what?: string }): Promise<R>;
  /** Clicks the element `selector` names (a DOM click, as a user's would dispatch it). */
  click(selector: string): Promise<void>;
  /** The element's textContent, or null when there is none. */
  textContent(selector: string): Promise<string | null>;
}

export function wrapPage(browser: BrowserName, driver: DriverPage): TestPage {
  const call = (fn: string | ((arg: never) => unknown), arg?: unknown): string =>
    typeof fn === 'string' ? fn : `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`;
  const page: TestPage = {
    browser,
    async goto(url) {
      await driver.goto(url);
      // A hidden page has its timers throttled and the client reacts to visibility: every page under test is shown.
      const visibility = await driver.evaluateExpression('document.visibilityState');
      if (visibility !== 'visible') throw new Error(`${browser}: the page at ${url} is ${String(visibility)}, not visible`);
    },
    errors: () => driver.errors(),
    close: () => driver.close(),
    evaluate: ((fn: string | ((arg: never) => unknown), arg?: unknown) => driver.evaluateExpression(call(fn, arg))) as TestPage['evaluate'],
    async waitFor(fn, arg, options = {}) {
      const timeout = options.timeout ?? 5000;
      const what = options.what ?? fn.toString().slice(0, 200);
      // The loop runs in the page (no round trip per check); the page's own timer ends it.
      const expr = `(async () => {
        const check = () => ${call(fn as (arg: never) => unknown, arg)};
        const deadline = Date.now() + ${timeout};
        let last;
        for (;;) {
          last = check();
          if (last) return { ok: true, value: last };
          if (Date.now() > deadline) return { ok: false, value: last };
          await new Promise((r) => setTimeout(r, ${options.pollMs ?? 20}));
        }
      })()`;
      const r = (await driver.evaluateExpression(expr)) as { ok: boolean; value: unknown };
      if (!r.ok) throw new Error(`${browser}: timed out after ${timeout} ms waiting for ${what}; last value ${JSON.stringify(r.value)}`);
      return r.value as never;
    },
    async click(selector) {
      const found = await driver.evaluateExpression(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return false; el.click(); return true; })()`);
      if (!found) throw new Error(`${browser}: no element ${selector} to click`);
    },
    textContent: (selector) => driver.evaluateExpression(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`) as Promise<string | null>,
  };
  return page;
}
