#!/usr/bin/env node
// Twenty tabs of one origin, each with a `share: true` client (the script-tag build), in one headless Chromium, against
// the reference server run as a child process (test/scenarios/share/share-server.mjs). The server emits a `tick` every
// 20 ms; each page stamps when its listener ran (performance.timeOrigin + now(), the same wall clock the server
// stamps with). Reported: connections and sessions the server saw, and per tick the time from the server's emit to
// the LAST tab's listener (p50 / p99 / max), plus every tab's own delay (p50 / p99). The same run with `share: false`
// (twenty connections) is reported beside it. Chromium is driven by playwright-core (attached DevTools), which
// slows pages a little: absolute times are an upper bound. Alone, after `npm run build`:
//   node bench/shared-tabs.mjs [--tabs=20] [--ticks=200]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/chromium.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1), n: s.length };
};

/** Starts the sharing test server; resolves to { origin, get(path), stop() }. */
async function startServer() {
  const script = fileURLToPath(new URL('../test/scenarios/share/share-server.mjs', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`share-server.mjs exited (${code}): ${out}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    get: async (path) => (await fetch(origin + path)).json(),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      process.removeListener('exit', kill);
    },
  };
}

/** One run: `tabs` pages with share on or off, `ticks` ticks 20 ms apart. */
async function run(context, share, tabs, ticks) {
  const server = await startServer();
  const pages = [];
  try {
    for (let i = 0; i < tabs; i++) {
      const page = await context.newPage();
      await page.goto(`${server.origin}/`);
      await page.evaluate(`window.harness.start({ share: ${share} })`);
      pages.push(page);
    }
    for (const page of pages) await page.waitForFunction(`window.harness.client.state === 'open'`, undefined, { timeout: 15_000 });
    await sleep(300);
    await server.get(`/ctl/ticks?count=${ticks}&everyMs=20`);
    for (const page of pages) await page.waitForFunction(`window.harness.got.length >= ${ticks}`, undefined, { timeout: 30_000, polling: 50 });
    const emitted = await server.get('/ctl/emitted');
    const arrivals = await Promise.all(pages.map((p) => p.evaluate('({ got: window.harness.got, at: window.harness.at })')));
    const toLast = [];
    const perTab = [];
    for (let n = 1; n <= ticks; n++) {
      let last = 0;
      for (const a of arrivals) {
        const i = a.got.indexOf(n);
        if (i < 0) throw new Error(`a tab never got tick ${n}`);
        const delay = a.at[i] - emitted[n];
        perTab.push(delay);
        last = Math.max(last, delay);
      }
      toLast.push(last);
    }
    const stats = await server.get('/ctl/stats');
    const inOrder = arrivals.every((a) => a.got.length === ticks && a.got.every((v, i) => v === i + 1));
    return { share, tabs, ticks, sessions: stats.sessions, connections: stats.connections, inOrder, toLastTab: summary(toLast), perTab: summary(perTab) };
  } finally {
    for (const page of pages) await page.close().catch(() => {});
    await server.stop();
  }
}

export async function sharedTabs({ tabs = 20, ticks = 200 } = {}) {
  const executablePath = await ensureChromium({ log: () => {} });
  const profile = mkdtempSync(join(tmpdir(), 'rf-bench-share-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
  try {
    return { shared: await run(context, true, tabs, ticks), separate: await run(context, false, tabs, ticks) };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
  const results = await sharedTabs({ tabs: arg('tabs', 20), ticks: arg('ticks', 200) });
  const ms = (v) => `${v.toFixed(1)} ms`;
  for (const r of [results.shared, results.separate]) {
    console.log(
      `${r.share ? 'share: true ' : 'share: false'}  ${r.tabs} tabs: ${r.connections.websocket} WebSocket connection(s), ${r.sessions} session(s), ` +
        `every tab in order: ${r.inOrder}\n` +
        `  server emit → last tab's listener: p50 ${ms(r.toLastTab.p50)}  p99 ${ms(r.toLastTab.p99)}  max ${ms(r.toLastTab.max)}  (${r.toLastTab.n} ticks)\n` +
        `  server emit → each tab's listener: p50 ${ms(r.perTab.p50)}  p99 ${ms(r.perTab.p99)}`,
    );
  }
}
