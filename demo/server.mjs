// The demo server: a plain node:http server that serves the demo page and the UMD bundle, with the realtime server
// (the built package, ../dist/server.mjs, exactly as an app would import it) on the same port at /realtime.
//
// The fault switches under /demo/* sit in front of the realtime server and break the network the way the real
// world does (a proxy refusing WebSocket upgrades, a proxy buffering event streams, a network blip). They are not
// part of the SDK; the SDK only sees their effects.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRealtimeServer } from '../dist/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const REALTIME_PATH = '/realtime';

const STATIC = {
  '/': join(here, 'index.html'),
  '/index.html': join(here, 'index.html'),
  '/app.js': join(here, 'app.js'),
  '/style.css': join(here, 'style.css'),
};
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Starts the demo. Resolves with `{ url, port, close }`; `close()` shuts the realtime server, then the http server.
 * Tries `port` first and takes a free one if it is busy (unless `strictPort`).
 */
export async function startDemoServer({ port = 8080, host = '127.0.0.1', strictPort = false, log = console.log } = {}) {
  const faults = { blockWebSocket: false, bufferSse: false };
  /** Every TCP socket of the http server, for "drop all connections". */
  const sockets = new Set();
  /** SSE responses held silent by the "buffering proxy". */
  const held = new Set();

  const server = createServer();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const rt = createRealtimeServer({ server, path: REALTIME_PATH, heartbeatMs: 10_000 });

  // The realtime server puts its own 'request'/'upgrade' listeners on the server it is given. The fault switches must
  // see requests first, so route everything ourselves and call the realtime server's public handlers
  // (`rt.handler`, `rt.handleUpgrade`, documented for frameworks that own the http server).
  server.removeAllListeners('request');
  server.removeAllListeners('upgrade');
  server.on('request', (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://demo');
    if (pathname.startsWith('/demo/')) return void demoEndpoint(pathname, req, res);
    if (faults.bufferSse && pathname === `${REALTIME_PATH}/sse`) return void holdSilent(req, res);
    if (rt.handler(req, res)) return;
    void serveStatic(pathname, req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url ?? '/', 'http://demo');
    if (faults.blockWebSocket && pathname === `${REALTIME_PATH}/ws`) {
      socket.destroy(); // what a proxy that does not speak WebSocket looks like to the browser: the connection drops
      return;
    }
    if (rt.handleUpgrade(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  // ---- the application: chat, a tick counter, echo -----------------------------------------------------------
  let tick = 0;
  const ticker = setInterval(() => rt.emit('tick', { n: ++tick, at: Date.now() }), 1000);
  rt.on('connection', (session) => {
    session.join('chat');
    session.on('say', (data) => {
      const user = String(data?.user ?? 'anon').slice(0, 32) || 'anon';
      const text = String(data?.text ?? '').slice(0, 500);
      if (text.trim() !== '') rt.to('chat').emit('chat', { user, text, at: Date.now() });
    });
    session.on('echo', (data, reply) => reply(data));
  });

  // ---- fault switches ------------------------------------------------------------------------------------------
  function holdSilent(req, res) {
    // A buffering proxy: the stream "opens" but nothing ever reaches the browser.
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    held.add(res);
    res.on('close', () => held.delete(res));
  }

  function dropAll() {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    return n;
  }

  function demoEndpoint(pathname, req, res) {
    const url = new URL(req.url ?? '/', 'http://demo');
    const on = url.searchParams.get('on') !== '0';
    let body;
    switch (pathname) {
      case '/demo/faults':
        body = faults;
        break;
      case '/demo/block-ws':
        if (req.method !== 'POST') return methodNotAllowed(res);
        faults.blockWebSocket = on;
        body = faults;
        break;
      case '/demo/buffer-sse':
        if (req.method !== 'POST') return methodNotAllowed(res);
        faults.bufferSse = on;
        if (!on) for (const r of held) r.end();
        body = faults;
        break;
      case '/demo/reset':
        if (req.method !== 'POST') return methodNotAllowed(res);
        faults.blockWebSocket = false;
        faults.bufferSse = false;
        for (const r of held) r.end();
        body = faults;
        break;
      case '/demo/drop': {
        if (req.method !== 'POST') return methodNotAllowed(res);
        // Answer first, then cut every socket (this request's own included) on the next turn.
        const count = sockets.size;
        res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' });
        res.end(JSON.stringify({ dropped: count }));
        setTimeout(dropAll, 20);
        log(`[demo] dropping ${count} connections`);
        return;
      }
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
    }
    if (pathname !== '/demo/faults') log(`[demo] faults: ${JSON.stringify(faults)}`);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ ...body, sessions: rt.sessions }));
  }

  function methodNotAllowed(res) {
    res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain' }).end('use POST');
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
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
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
      throw err;
    }
    log(`[demo] port ${port} is busy; using a free one`);
    actual = await listen(0);
  }

  let closing;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(ticker);
      for (const r of held) r.end();
      await rt.close(); // tells every client close{shutdown}, ends streams and polls
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })());

  return { url: `http://${host}:${actual}/`, port: actual, close, faults };
}

// `node demo/server.mjs` works too (expects an up-to-date dist/; `npm run demo` builds it when needed).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const demo = await startDemoServer({ port: Number(process.env.PORT ?? 8080) });
  console.log(`realtime-fallback demo: ${demo.url}`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
