// The server of the tab-sharing tests and bench, run as a child process: `node share-server.mjs` prints
// `listening <port>` once it listens on a free loopback port. It serves one page (the built script-tag bundle and a
// small harness, window.harness) and the reference server from dist/ at /realtime, and counts what the tests assert:
// sessions, connections by transport, and every emit each tab made (`say { tab, n }`).
//
// Control: GET /ctl/stats (JSON), GET /ctl/ticks?count=N&everyMs=M (server emits `tick` 1..N to every session, the
// next number continuing after earlier runs), GET /ctl/stop-ticks, GET /ctl/emitted (when each tick was emitted).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRealtimeServer } from '../../../dist/server.mjs';

const bundle = readFileSync(new URL('../../../dist/realtime-fallback.share.umd.min.js', import.meta.url), 'utf8');

const page = `<!doctype html><meta charset="utf-8"><title>share</title><link rel="icon" href="data:,">
<script src="/rf.js"></script>
<script>
  window.harness = {
    got: [], at: [], roles: [], states: [], resyncs: 0, errors: [], replies: [], opened: 0,
    start(options) {
      const c = new RealtimeFallback.RealtimeClient(location.origin + '/realtime', { share: true, ...options });
      this.client = c;
      c.on('tick', (n) => { this.got.push(n); this.at.push(performance.timeOrigin + performance.now()); });
      c.lifecycle.on('share', (e) => this.roles.push({ role: e.role, reason: e.reason, at: Date.now() }));
      c.lifecycle.on('state', (e) => this.states.push(e.state));
      c.lifecycle.on('open', () => this.opened++);
      c.lifecycle.on('resync', (e) => { this.resyncs++; this.errors.push('resync: ' + e.reason); });
      c.lifecycle.on('error', (e) => this.errors.push(e.code + ': ' + e.message));
    },
    role() { return this.roles.length ? this.roles[this.roles.length - 1].role : null; },
    /** Headless Chromium shows every page, even minimised: a test hides one by overriding what the page reads. */
    hide() {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    },
    /** Emits say { tab, n } for n = from..to, one every everyMs (0: all at once). */
    say(tab, from, to, everyMs) {
      return new Promise((resolve) => {
        let n = from;
        const one = () => { this.client.emit('say', { tab, n }); n++; };
        if (!everyMs) { while (n <= to) one(); return resolve(); }
        const timer = setInterval(() => { one(); if (n > to) { clearInterval(timer); resolve(); } }, everyMs);
      });
    },
  };
</script>`;

let sessions = 0;
const connections = { websocket: 0, sse: 0, polling: 0 };
const said = {};
let tick = 0;
let ticker = null;
/** When each tick was emitted (ms since the epoch, sub-ms), for the bench (bench/shared-tabs.mjs). */
const emittedAt = {};
const emitTick = () => {
  tick++;
  emittedAt[tick] = performance.timeOrigin + performance.now();
  rt.emit('tick', tick);
};

const http = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const json = (value) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
  if (url.pathname === '/') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
  if (url.pathname === '/rf.js') return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
  if (url.pathname === '/ctl/stats') return json({ sessions, live: rt.sessions, connections, said, tick });
  if (url.pathname === '/ctl/ticks') {
    const count = Number(url.searchParams.get('count'));
    const everyMs = Number(url.searchParams.get('everyMs') ?? 0);
    const last = tick + count;
    clearInterval(ticker);
    if (everyMs === 0) {
      while (tick < last) emitTick();
    } else {
      ticker = setInterval(() => {
        emitTick();
        if (tick >= last) clearInterval(ticker);
      }, everyMs);
    }
    return json({ from: last - count + 1, to: last });
  }
  if (url.pathname === '/ctl/emitted') return json(emittedAt);
  if (url.pathname === '/ctl/stop-ticks') {
    clearInterval(ticker);
    return json({ tick });
  }
  res.writeHead(404).end();
});

const rt = createRealtimeServer({ server: http, path: '/realtime', logger: { debug() {}, warn() {}, error() {} } });
// Counted after the realtime server took the request listeners over (it calls earlier ones only for other paths).
http.prependListener('upgrade', () => connections.websocket++);
http.prependListener('request', (req) => {
  if (req.url.startsWith('/realtime/sse')) connections.sse++;
  if (req.url.startsWith('/realtime/poll')) connections.polling++;
});
rt.on('connection', (session) => {
  sessions++;
  session.on('say', ({ tab, n }) => (said[tab] ??= []).push(n));
  session.on('echo', (data, reply) => reply(data));
});

http.listen(0, '127.0.0.1', () => console.log(`listening ${http.address().port}`));
const stop = () => {
  clearInterval(ticker);
  void rt.close().finally(() => http.close(() => process.exit(0)));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
