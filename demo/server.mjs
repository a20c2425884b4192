// The demo server: a plain node:http server that serves the demo pages and the built bundles, with the realtime
// server (the built package, ../dist/server.mjs, exactly as an app would import it) on the same port at /realtime.
//
// The fault switches under /demo/* sit in front of the realtime server and break the network the way the real
// world does (a proxy refusing WebSocket upgrades or leaving them hanging, a proxy blocking or buffering event
// streams, a network blip). They are not part of the SDK; the SDK only sees their effects.
//
// Every page is sent with a strict Content-Security-Policy: scripts only from this origin (the ESM page adds the
// hash of its one inline import map), no inline styles, no inline handlers.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRealtimeServer } from '../dist/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const REALTIME_PATH = '/realtime';
export const DEFAULT_PORT = 6788;

const STATIC = {
  '/': join(here, 'index.html'),
  '/index.html': join(here, 'index.html'),
  '/app.js': join(here, 'app.js'),
  '/style.css': join(here, 'style.css'),
  '/esm.html': join(here, 'esm.html'),
  '/esm.js': join(here, 'esm.js'),
  '/vendor/event-source-polyfill.mjs': join(here, 'event-source-polyfill-shim.mjs'),
  // The ESM build's bare imports, mapped by the import map in esm.html to these files.
  '/vendor/reconnecting-websocket.mjs': join(root, 'node_modules/reconnecting-websocket/dist/reconnecting-websocket-mjs.js'),
  '/vendor/eventsource.js': join(root, 'node_modules/event-source-polyfill/src/eventsource.js'),
};
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/** The CSP of every page. `extraScript` lists hashes of inline scripts the page carries (the ESM page's import map). */
function csp(extraScript = []) {
  return [
    "default-src 'self'",
    ["script-src 'self'", ...extraScript].join(' '),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** sha256 source expressions of every inline <script> in an HTML page (only esm.html has one: its import map). */
function inlineScriptHashes(html) {
  const hashes = [];
  for (const m of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
    if (/\bsrc=/.test(m[0].slice(0, m[0].indexOf('>')))) continue;
    hashes.push(`'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
  }
  return hashes;
}

const FAULTS = ['refuseWebSocket', 'hangWebSocket', 'blockSse', 'bufferSse'];

/**
 * Starts the demo. Resolves with `{ url, port, close, faults, setFault, dropAll, stats, notes }`; `close()` shuts the
 * realtime server, then the http server. Tries `port` first and takes a free one if it is busy (unless
 * `strictPort`). `tickMs` is the interval of the `tick` stream (0: no ticker here); `heartbeatMs` goes to the
 * realtime server.
 *
 * As one node of `npm run demo -- --nodes N` (demo/cluster.mjs): `adapter` is the Redis adapter, `nodeName` is told
 * to every session this node takes up (app event `node`), `tickMs: 0` because the cluster's one publisher ticks (every
 * node ticking would send each tick N times), and `runCount` hands `count` streams to that publisher: a timer here
 * would die with this node and the stream would stop mid-way.
 */
export async function startDemoServer({
  port = DEFAULT_PORT,
  host = '127.0.0.1',
  strictPort = false,
  tickMs = 1000,
  heartbeatMs = 10_000,
  adapter = undefined,
  nodeName = undefined,
  runCount = undefined,
  log = console.log,
} = {}) {
  /** The fault switches (see FAULTS). */
  const faults = Object.fromEntries(FAULTS.map((f) => [f, false]));
  /** What reached the server, for tests and the curious: handshakes per transport, upstream POSTs. */
  const stats = { websocket: 0, sse: 0, poll: 0, pollHandshakes: 0, send: 0, dropped: 0 };
  /** Every `note` event received, in order: `{ sid, n, text }` (the offline test checks each arrives once). */
  const notes = [];
  /** Every TCP socket of the http server, for "drop all connections". */
  const sockets = new Set();
  /** SSE responses held silent by the "buffering proxy"; upgrade sockets left hanging. */
  const held = new Set();
  const hung = new Set();

  const server = createServer();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const rt = createRealtimeServer({ server, path: REALTIME_PATH, heartbeatMs, adapter, logger: quietLogger(log) });

  // The realtime server puts its own 'request'/'upgrade' listeners on the server it is given. The fault switches must
  // see requests first, so route everything ourselves and call the realtime server's public handlers
  // (`rt.handler`, `rt.handleUpgrade`, documented for frameworks that own the http server).
  server.removeAllListeners('request');
  server.removeAllListeners('upgrade');
  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const { pathname } = url;
    if (pathname.startsWith('/demo/')) return void demoEndpoint(url, req, res);
    if (pathname === `${REALTIME_PATH}/sse`) {
      stats.sse++;
      if (faults.blockSse) return void res.writeHead(502, { 'Content-Type': 'text/plain' }).end('SSE blocked by the demo proxy');
      if (faults.bufferSse) return void holdSilent(res);
    }
    if (pathname === `${REALTIME_PATH}/poll`) {
      stats.poll++;
      if (!url.searchParams.has('cid')) stats.pollHandshakes++;
    }
    if (pathname === `${REALTIME_PATH}/send`) stats.send++;
    if (rt.handler(req, res)) return;
    void serveStatic(pathname, req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url ?? '/', 'http://demo');
    if (pathname === `${REALTIME_PATH}/ws`) {
      stats.websocket++;
      if (faults.refuseWebSocket) {
        // A proxy that does not speak WebSocket: it answers the upgrade with an error and closes.
        socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (faults.hangWebSocket) {
        // A proxy that accepts the TCP connection and never answers the upgrade.
        hung.add(socket);
        socket.on('close', () => hung.delete(socket));
        socket.on('error', () => {});
        return;
      }
    }
    if (rt.handleUpgrade(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  // ---- the application: tick stream, chat with rooms, echo, counter stream, notes ------------------------------
  let tick = 0;
  const ticker = tickMs > 0 ? setInterval(() => rt.emit('tick', { n: ++tick, at: Date.now() }), tickMs) : undefined;
  /** Per-session counter streams started by `count` requests. */
  const counters = new Set();
  /** A counter on this process: 1..to, one every `everyMs`, to this session only. */
  const countHere = (session, to, everyMs) => {
    let n = 0;
    const timer = setInterval(() => {
      session.emit('count', { n: ++n });
      if (n >= to) {
        clearInterval(timer);
        counters.delete(timer);
      }
    }, everyMs);
    counters.add(timer);
  };
  rt.on('connection', (session) => {
    // Also on a node that takes the session over from another (session.restored): the page shows who holds it now.
    if (nodeName !== undefined) session.emit('node', { name: nodeName, restored: session.restored });
    const clean = (value, max) => String(value ?? '').slice(0, max);
    const roomName = (value) => clean(value, 32).trim();
    // Broadcast to everyone else; with `room`, to the other members of that room. The sender shows its own message.
    session.on('say', (data) => {
      const user = clean(data?.user, 32).trim() || 'anon';
      const text = clean(data?.text, 500);
      const room = roomName(data?.room);
      if (text.trim() === '') return;
      const msg = { user, text, room: room || null, at: Date.now() };
      if (room) session.to(room).emit('chat', msg);
      else session.broadcast.emit('chat', msg);
    });
    session.on('join', (data, reply) => {
      const room = roomName(data?.room);
      if (room && room !== session.id) session.join(room);
      reply?.({ rooms: [...session.rooms] });
    });
    session.on('leave', (data, reply) => {
      session.leave(roomName(data?.room));
      reply?.({ rooms: [...session.rooms] });
    });
    session.on('echo', (data, reply) => reply?.(data));
    // A counter only for this session: `count` 1..to, one every `everyMs` (the drop test counts every number).
    session.on('count', (data, reply) => {
      const to = Math.min(Math.max(1, Number(data?.to) || 100), 10_000);
      const everyMs = Math.min(Math.max(5, Number(data?.everyMs) || 50), 10_000);
      if (runCount) runCount({ sid: session.id, to, everyMs });
      else countHere(session, to, everyMs);
      reply?.({ to, everyMs });
    });
    session.on('note', (data) => {
      notes.push({ sid: session.id, n: Number(data?.n), text: clean(data?.text, 200) });
    });
    session.on('disconnect', () => {});
  });

  // ---- fault switches ------------------------------------------------------------------------------------------
  function holdSilent(res) {
    // A buffering proxy: the stream "opens" but nothing ever reaches the browser.
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    held.add(res);
    res.on('close', () => held.delete(res));
  }

  function setFault(name, on) {
    if (!FAULTS.includes(name)) throw new Error(`unknown fault ${name}`);
    faults[name] = Boolean(on);
    if (!on && name === 'bufferSse') for (const r of held) r.end();
    if (!on && name === 'hangWebSocket') for (const s of hung) s.destroy();
    log(`[demo] faults: ${JSON.stringify(faults)}`);
    return { ...faults };
  }

  /** Cuts every TCP connection of the server (pages, streams, polls, WebSockets). */
  function dropAll() {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    stats.dropped += n;
    return n;
  }

  const FAULT_PATHS = {
    '/demo/refuse-ws': 'refuseWebSocket',
    '/demo/hang-ws': 'hangWebSocket',
    '/demo/block-sse': 'blockSse',
    '/demo/buffer-sse': 'bufferSse',
  };

  function demoEndpoint(url, req, res) {
    const { pathname } = url;
    const reply = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    // `node` tells the page it is in front of a cluster (demo/cluster.mjs), without a request that would 404 here.
    if (pathname === '/demo/faults') return reply(200, { ...faults, sessions: rt.sessions, ...(nodeName !== undefined && { node: nodeName }) });
    if (req.method !== 'POST') return void res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain' }).end('use POST');
    const fault = FAULT_PATHS[pathname];
    if (fault) return reply(200, { ...setFault(fault, url.searchParams.get('on') !== '0'), sessions: rt.sessions });
    if (pathname === '/demo/reset') {
      for (const f of FAULTS) faults[f] = false;
      for (const r of held) r.end();
      for (const s of hung) s.destroy();
      log('[demo] faults cleared');
      return reply(200, { ...faults, sessions: rt.sessions });
    }
    if (pathname === '/demo/drop') {
      // Answer first, then cut every socket (this request's own included) on the next turn.
      const count = sockets.size;
      res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ dropped: count }));
      setTimeout(dropAll, 20);
      log(`[demo] dropping ${count} connections`);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  }

  // ---- static files ----------------------------------------------------------------------------------------------
  async function serveStatic(pathname, req, res) {
    let file = STATIC[pathname];
    if (!file && pathname.startsWith('/dist/')) {
      const candidate = normalize(join(root, decodeURIComponent(pathname)));
      if (candidate.startsWith(join(root, 'dist') + sep)) file = candidate;
    }
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    try {
      const content = await readFile(file);
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const headers = { 'Content-Type': type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };
      if (type.startsWith('text/html')) {
        headers['Content-Security-Policy'] = csp(inlineScriptHashes(content.toString('utf8')));
        headers['Referrer-Policy'] = 'no-referrer';
      }
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : content);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  }

  // ---- listen / close --------------------------------------------------------------------------------------------
  const listen = (p) =>
    new Promise((resolve, reject) => {
      const onError = (err) => reject(err);
      server.once('error', onError);
      server.listen(p, host, () => {
        server.off('error', onError);
        resolve(server.address().port);
      });
    });
  let actual;
  try {
    actual = await listen(port);
  } catch (err) {
    if (err?.code !== 'EADDRINUSE' || strictPort) {
      clearInterval(ticker);
      await rt.close();
      throw err;
    }
    log(`[demo] port ${port} is busy; using a free one`);
    actual = await listen(0);
  }

  let closing;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(ticker);
      for (const t of counters) clearInterval(t);
      for (const r of held) r.end();
      for (const s of hung) s.destroy();
      await rt.close(); // tells every client close{shutdown}, ends streams and polls
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })());

  return { url: `http://${host}:${actual}/`, port: actual, close, faults, setFault, dropAll, stats, notes, realtime: rt };
}

/** The realtime server's warnings go to the demo's log; its debug chatter is dropped. */
function quietLogger(log) {
  return {
    debug() {},
    warn: (message, meta) => log(`[realtime] ${message}`, meta ?? ''),
    error: (message, meta) => log(`[realtime] ${message}`, meta ?? ''),
  };
}

// Fail early with a clear message when a vendored file is missing (npm install not run).
for (const f of ['/vendor/reconnecting-websocket.mjs', '/vendor/eventsource.js']) {
  try {
    readFileSync(STATIC[f]);
  } catch {
    console.warn(`[demo] ${STATIC[f]} is missing: the ESM page needs npm install`);
  }
}

// `node demo/server.mjs` works too (expects an up-to-date dist/; `npm run demo` builds it when needed).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const demo = await startDemoServer({ port: Number(process.env.PORT ?? DEFAULT_PORT) });
  console.log(`realtime-fallback demo: ${demo.url}`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
