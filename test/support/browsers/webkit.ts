/**
 * WebKit (WebKitGTK's MiniBrowser) through WebKitWebDriver, W3C WebDriver classic over plain fetch. MiniBrowser has
 * no headless mode: each launch starts its own Xvfb (a free display picked by Xvfb itself, `-displayfd`), a driver on
 * a free port with a temporary HOME/XDG tree, and kills both process groups on every exit path (MiniBrowser and its
 * web processes are the driver's children and inherit its pipes). WebDriver classic has no console access: the page
 * gets an error collector once `goto` returns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMiniBrowser } from '../../../scripts/browsers.mjs';
import type { Driver } from './chromium';
import type { DriverPage } from './page';

export const webkitDriverPath = (): string => process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const miniBrowserPath = (): string => findMiniBrowser() ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const xvfbPath = (): string => process.env.XVFB_PATH ?? '/usr/bin/Xvfb';

/** Process groups still to kill if this process exits without `close()` (a crashed or killed test worker). */
const groups = new Set<number>();
process.on('exit', () => {
  for (const pid of groups) killGroup(pid);
});

function killGroup(pid: number): void {
  groups.delete(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Starts `cmd` in a process group of its own, keeping the last 4 KB of its output for error messages. */
function spawnGroup(cmd: string, args: string[], env: NodeJS.ProcessEnv, extraFd = false): { child: ChildProcess; output(): string } {
  const child = spawn(cmd, args, { detached: true, env, stdio: ['ignore', 'pipe', 'pipe', ...(extraFd ? (['pipe'] as const) : [])] });
  if (child.pid !== undefined) groups.add(child.pid);
  let tail = '';
  const keep = (chunk: Buffer): void => void (tail = (tail + chunk.toString()).slice(-4096));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (e) => keep(Buffer.from(`\n${String(e)}`)));
  return { child, output: () => tail };
}

function stopGroup(child: ChildProcess): void {
  if (child.pid !== undefined) killGroup(child.pid);
  for (const s of child.stdio) s?.destroy();
}

async function startXvfb(): Promise<{ display: string; stop(): void }> {
  if (!existsSync(xvfbPath())) throw new Error(`WebKit needs an X display and ${xvfbPath()} is missing (Debian: apt-get install xvfb xauth; or set XVFB_PATH)`);
  const { child, output } = spawnGroup(xvfbPath(), ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], process.env, true);
  try {
    const display = await new Promise<string>((resolve, reject) => {
      let got = '';
      const timer = setTimeout(() => reject(new Error(`Xvfb reported no display within 10 s: ${output()}`)), 10_000);
      (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        got += d.toString();
        if (got.includes('\n')) {
          clearTimeout(timer);
          resolve(`:${got.trim()}`);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Xvfb exited (${code ?? signal}) before reporting a display: ${output()}`));
      });
    });
    return { display, stop: () => stopGroup(child) };
  } catch (e) {
    stopGroup(child);
    throw e;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Reply {
  value: unknown;
}

export async function launch(options: { ignoreHTTPSErrors?: boolean }): Promise<Driver> {
  for (const [what, path, pkg] of [
    ['WebKitWebDriver', webkitDriverPath(), 'webkit2gtk-driver (or set WEBKIT_DRIVER_PATH)'],
    ['MiniBrowser', miniBrowserPath(), 'webkit2gtk-driver (or set MINIBROWSER_PATH)'],
  ] as const) {
    if (!existsSync(path)) throw new Error(`WebKit tests need ${what} at ${path} (Debian: apt-get install ${pkg})`);
  }
  const home = mkdtempSync(join(tmpdir(), 'rf-webkit-'));
  const cleanups: (() => void)[] = [() => rmSync(home, { recursive: true, force: true })];
  const cleanup = (): void => {
    for (const c of cleanups.splice(0).reverse()) c();
  };
  try {
    const xvfb = await startXvfb();
    cleanups.push(xvfb.stop);
    const port = await freePort();
    const env = { ...process.env, DISPLAY: xvfb.display, HOME: home, XDG_CACHE_HOME: join(home, 'cache'), XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home };
    const driver = spawnGroup(webkitDriverPath(), [`--port=${port}`], env);
    cleanups.push(() => stopGroup(driver.child));
    const base = `http://127.0.0.1:${port}`;

    const request = async (method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<unknown> => {
      let res: Response;
      try {
        res = await fetch(base + path, {
          method,
          headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new Error(`WebKitWebDriver ${method} ${path}: ${String(e)}; driver output: ${driver.output()}`, { cause: e });
      }
      const json = (await res.json().catch(() => ({ value: { error: `HTTP ${res.status}`, message: 'no JSON' } }))) as Reply;
      if (!res.ok) {
        const v = json.value as { error?: string; message?: string };
        throw new Error(`WebKitWebDriver ${method} ${path}: ${v.error}: ${v.message}`);
      }
      return json.value;
    };

    // The driver listens once it is up.
    const ready = Date.now() + 10_000;
    for (;;) {
      if (driver.child.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.child.exitCode}): ${driver.output()}`);
      try {
        await request('GET', '/status', undefined, 1000);
        break;
      } catch (e) {
        if (Date.now() > ready) throw new Error(`WebKitWebDriver did not listen on ${port} within 10 s: ${String(e)}`);
        await sleep(50);
      }
    }
    // A new-session request hangs without an answer when MiniBrowser cannot show a window: always time it out.
    const session = (await request(
      'POST',
      '/session',
      {
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            acceptInsecureCerts: options.ignoreHTTPSErrors ?? false,
            'webkitgtk:browserOptions': { binary: miniBrowserPath(), args: ['--automation'] },
          },
        },
      },
      20_000,
    ).catch((e: unknown) => {
      throw new Error(`WebKit (MiniBrowser) did not start a session on display ${xvfb.display}: ${String(e)}`, { cause: e });
    })) as { sessionId: string };
    const s = `/session/${session.sessionId}`;
    // In-page waits end by their own timers; the script timeout is only a backstop.
    await request('POST', `${s}/timeouts`, { script: 600_000, pageLoad: 30_000 });
    const homeWindow = (await request('GET', `${s}/window`)) as string;

    // WebDriver commands act on the current window, one at a time: a queue, switching windows when needed.
    let current = homeWindow;
    let queue: Promise<unknown> = Promise.resolve();
    const onWindow = <T>(handle: string, f: () => Promise<T>): Promise<T> => {
      const run = queue.then(async () => {
        if (current !== handle) {
          await request('POST', `${s}/window`, { handle });
          current = handle;
        }
        return f();
      });
      queue = run.catch(() => {});
      return run;
    };
    const execute = async (handle: string, expression: string): Promise<unknown> => {
      const script = `const done = arguments[0];
        Promise.resolve().then(() => (${expression})).then(
          (v) => done({ ok: true, v: v === undefined ? null : v }),
          (e) => done({ ok: false, e: String(e) + (e && e.stack ? '\\n' + e.stack : '') }));`;
      const r = (await onWindow(handle, () => request('POST', `${s}/execute/async`, { script, args: [] }, 610_000))) as { ok: boolean; v?: unknown; e?: string };
      if (!r.ok) throw new Error(`webkit: evaluation failed: ${r.e}`);
      return r.v;
    };
    const collector = `(() => {
      if (window.__rfErrors) return;
      const errors = (window.__rfErrors = []);
      addEventListener('error', (e) => errors.push('pageerror: ' + e.message));
      addEventListener('unhandledrejection', (e) => errors.push('pageerror: ' + ((e.reason && e.reason.message) || e.reason)));
      const original = console.error;
      console.error = function (...args) {
        errors.push(args.map(String).join(' '));
        return original.apply(this, args);
      };
    })()`;

    return {
      async newPage(): Promise<DriverPage> {
        // A window, not a tab: a tab opens in the background, hidden, with its timers throttled to one a second.
        const { handle } = (await onWindow(current, () => request('POST', `${s}/window/new`, { type: 'window' }))) as { handle: string };
        let closed = false;
        return {
          async goto(url) {
            await onWindow(handle, () => request('POST', `${s}/url`, { url }));
            await execute(handle, collector);
          },
          evaluateExpression: (expression) => execute(handle, expression),
          errors: async () => (closed ? [] : ((await execute(handle, 'window.__rfErrors || []')) as string[])),
          async close() {
            if (closed) return;
            closed = true;
            await onWindow(handle, () => request('DELETE', `${s}/window`));
            current = '';
            await onWindow(homeWindow, async () => undefined);
          },
        };
      },
      async close() {
        await request('DELETE', s, undefined, 5000).catch(() => {});
        cleanup();
      },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
