// Finds what the Firefox and WebKit browser tests need (test/support/browsers), or installs Debian's packages when
// root and says so; without them, `npm test` stops here naming what is missing. `BROWSERS` (a comma list of
// chromium, firefox, webkit; default all) says which browsers the run covers.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

export const ALL_BROWSERS = ['chromium', 'firefox', 'webkit'];

/** The browsers a run covers: `BROWSERS` (comma list) or all three; an unknown name is an error, never a skip. */
export function parseBrowsers(env = process.env.BROWSERS) {
  if (env === undefined || env.trim() === '') return [...ALL_BROWSERS];
  const names = env.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((n) => !ALL_BROWSERS.includes(n));
  if (unknown.length > 0) throw new Error(`BROWSERS names ${unknown.join(', ')}; known: ${ALL_BROWSERS.join(', ')}`);
  return ALL_BROWSERS.filter((n) => names.includes(n));
}

/** WebKitGTK's MiniBrowser: `MINIBROWSER_PATH`, or Debian's for this machine's architecture (webkit2gtk-driver). */
export function findMiniBrowser() {
  if (process.env.MINIBROWSER_PATH) return process.env.MINIBROWSER_PATH;
  for (const arch of existsSync('/usr/lib') ? readdirSync('/usr/lib') : []) {
    for (const api of ['webkit2gtk-4.1', 'webkit2gtk-4.0', 'webkitgtk-6.0']) {
      const p = `/usr/lib/${arch}/${api}/MiniBrowser`;
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Each part: the environment variable that overrides it, where Debian puts it, and the package that has it. */
const PARTS = {
  firefox: [{ env: 'FIREFOX_PATH', find: () => process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', pkg: 'firefox-esr' }],
  webkit: [
    { env: 'WEBKIT_DRIVER_PATH', find: () => process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver', pkg: 'webkit2gtk-driver' },
    { env: 'MINIBROWSER_PATH', find: findMiniBrowser, pkg: 'webkit2gtk-driver' },
    // MiniBrowser has no headless mode: the tests start their own X server.
    { env: 'XVFB_PATH', find: () => process.env.XVFB_PATH ?? '/usr/bin/Xvfb', pkg: 'xvfb' },
  ],
};

const missingParts = (names) => names.flatMap((n) => (PARTS[n] ?? []).filter((p) => { const path = p.find(); return !path || !existsSync(path); }));

/**
 * Makes sure Firefox and WebKit (whichever `names` include) can run; returns the environment that tells the tests
 * where they are. Chromium is scripts/chromium.mjs's job.
 */
export function ensureBrowsers(names, { log = console.log } = {}) {
  let missing = missingParts(names);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((p) => p.pkg)), ...(missing.some((p) => p.pkg === 'xvfb') ? ['xauth'] : [])];
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (isRoot && spawnSync('which', ['apt-get']).status === 0) {
      log(`browser tests need ${pkgs.join(', ')}: installing Debian's packages with apt-get (root)`);
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      missing = missingParts(names);
    }
    if (missing.length > 0) {
      throw new Error(
        `browser tests for ${names.join(', ')} need: ${missing.map((p) => `${p.find() ?? p.env} (Debian package ${p.pkg}, or set ${p.env})`).join('; ')}. ` +
          `Install them, or run a subset with BROWSERS=chromium`,
      );
    }
  }
  const env = {};
  for (const n of names) for (const p of PARTS[n] ?? []) env[p.env] = p.find();
  return env;
}
