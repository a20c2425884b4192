// The servers the browser scenarios talk to, all on 127.0.0.1:
// - `main`: our reference server at /realtime, plus the raw baselines: a bare `ws` server (/raw-ws), a bare SSE
//   endpoint (/raw-sse), a bare fetch long-poll (/raw-poll). One http.Server, so every page is same-origin.
// - `sio`: a socket.io server (default options) on its own http.Server.
// - `failover`: a second reference server behind a front that refuses or hangs WebSocket upgrades, or buffers SSE
//   as a proxy would; the mode is switched between scenarios.
// Every server answers `hello` on connect, `go n` with n messages of ~100 bytes pushed in one synchronous loop,
// and `echo i` with i.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { Server as SocketIoServer } from 'socket.io';
import { createRealtimeServer } from '../dist/server.mjs';
import { ROOT } from './size.mjs';

export const PAYLOAD = { i: 0, p: 'x'.repeat(60) };
const payload = (i) => ({ i, p: PAYLOAD.p });

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

/** Static files and the result sink shared by every server. */
function makeStatic(onResult) {
  const files = {
    '/umd.js': path.join(ROOT, 'dist/realtime-fallback.umd.min.js'),
    '/sio.js': path.join(ROOT, 'node_modules/socket.io-client/dist/socket.io.min.js'),
    '/page.js': path.join(ROOT, 'bench/page.js'),
  };
  const html = (lib) =>
    `<!doctype html><meta charset=utf-8><title>bench</title><script src="${lib}"></script><script src="/page.js"></script>`;
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/result' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(204).end();
        onResult(JSON.parse(body));
      });
      return true;
    }
    if (url.pathname === '/page.html') {
      // Cross-origin isolated, so performance.now() has 5 µs resolution instead of 100 µs.
      res
        .writeHead(200, { 'content-type': 'text/html', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' })
        .end(html(url.searchParams.get('s').startsWith('sio') ? '/sio.js' : '/umd.js'));
      return true;
    }
    if (files[url.pathname]) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cross-origin-resource-policy': 'same-origin' }).end(readFileSync(files[url.pathname]));
      return true;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(404).end();
      return true;
    }
    return false;
  };
}

/** Reference-server options for the benchmark: limits lifted that 1,000 local clients or a 20,000 burst would hit. */
export const RT_OPTIONS = { path: '/realtime', maxSessionsPerClient: 100_000, logger: { debug() {}, warn() {}, error: console.error } };

function wireRealtime(rt) {
  rt.on('connection', (session) => {
    session.emit('hello');
    session.on('echo', (d, reply) => reply(d));
    session.on('go', (n) => {
      for (let i = 0; i < n; i++) session.emit('m', payload(i));
    });
  });
}

export async function startServers() {
  let resultWaiter = null;
  const onResult = (r) => resultWaiter?.(r);
  const nextResult = (timeoutMs) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        resultWaiter = null;
        reject(new Error(`no result within ${timeoutMs} ms`));
      }, timeoutMs);
      resultWaiter = (r) => {
        clearTimeout(t);
        resultWaiter = null;
        resolve(r);
      };
    });
  const serveStatic = makeStatic(onResult);

  // ---- main: ours + raw baselines ----
  const sse = new Map();
  const polls = new Map();
  const line = (obj) => JSON.stringify(obj);
  const main = http.createServer((req, res) => {
    if (serveStatic(req, res)) return;
    const url = new URL(req.url, 'http://x');
    const id = url.searchParams.get('id');
    switch (url.pathname) {
      case '/raw-sse': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(`data: ${line({ e: 'hello' })}\n\n`);
        sse.set(id, res);
        req.on('close', () => sse.delete(id));
        return;
      }
      case '/raw-sse/go': {
        const s = sse.get(id);
        const n = Number(url.searchParams.get('n'));
        res.writeHead(204).end();
        for (let i = 0; i < n; i++) s.write(`data: ${line({ e: 'm', d: payload(i) })}\n\n`);
        return;
      }
      case '/raw-sse/echo': {
        res.writeHead(204).end();
        sse.get(id).write(`data: ${line({ e: 'echo', d: Number(url.searchParams.get('i')) })}\n\n`);
        return;
      }
      case '/raw-poll': {
        let p = polls.get(id);
        if (!p) polls.set(id, (p = { queue: [line({ e: 'hello' })], res: null, scheduled: false }));
        p.res = res;
        flushPoll(p);
        return;
      }
      case '/raw-poll/go': {
        const p = polls.get(id);
        const n = Number(url.searchParams.get('n'));
        res.writeHead(204).end();
        for (let i = 0; i < n; i++) pushPoll(p, line({ e: 'm', d: payload(i) }));
        return;
      }
      case '/raw-poll/echo': {
        res.writeHead(204).end();
        pushPoll(polls.get(id), line({ e: 'echo', d: Number(url.searchParams.get('i')) }));
        return;
      }
    }
    res.writeHead(404).end();
  });
  const pushPoll = (p, text) => {
    p.queue.push(text);
    if (!p.scheduled) {
      p.scheduled = true;
      queueMicrotask(() => {
        p.scheduled = false;
        flushPoll(p);
      });
    }
  };
  const flushPoll = (p) => {
    if (!p.res || p.queue.length === 0) return;
    p.res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`[${p.queue.join(',')}]`);
    p.res = null;
    p.queue = [];
  };
  const rawWss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  rawWss.on('connection', (ws) => {
    ws.send(line({ e: 'hello' }));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.go) for (let i = 0; i < m.go; i++) ws.send(line({ e: 'm', d: payload(i) }));
      else ws.send(line({ e: 'echo', d: m.echo }));
    });
  });
  main.on('upgrade', (req, socket, head) => {
    if (req.url.startsWith('/raw-ws')) rawWss.handleUpgrade(req, socket, head, (ws) => rawWss.emit('connection', ws, req));
  });
  const rt = createRealtimeServer({ ...RT_OPTIONS, server: main });
  wireRealtime(rt);
  const mainPort = await listen(main);

  // ---- socket.io ----
  const sioHttp = http.createServer((req, res) => {
    if (!serveStatic(req, res)) res.writeHead(404).end();
  });
  const sio = new SocketIoServer(sioHttp, { serveClient: false });
  sio.on('connection', (socket) => {
    socket.emit('hello');
    socket.on('echo', (i, ack) => ack(i));
    socket.on('go', (n) => {
      for (let i = 0; i < n; i++) socket.emit('m', payload(i));
    });
  });
  const sioPort = await listen(sioHttp);

  // ---- failover: a hostile front before a second reference server ----
  let mode = 'refuse';
  const hidden = http.createServer();
  const rt2 = createRealtimeServer({ ...RT_OPTIONS, server: hidden });
  wireRealtime(rt2);
  // Sessions the server made since the mode was set: a losing racer that left one behind shows here.
  let sessionsMade = 0;
  rt2.on('connection', () => void sessionsMade++);
  const held = new Set();
  const front = http.createServer((req, res) => {
    if (serveStatic(req, res)) return;
    if (mode.endsWith('buffer-sse') && req.url.includes('/realtime/sse')) {
      // A buffering proxy: the stream reaches the server (which makes its session and writes), its headers and
      // events never reach the browser (until the buffer fills).
      res.writeHead = () => res;
      res.flushHeaders = () => {};
      res.write = () => true;
      held.add(res);
      req.on('close', () => held.delete(res));
    }
    if (!rt2.handler(req, res)) res.writeHead(404).end();
  });
  front.on('upgrade', (req, socket) => {
    if (mode.startsWith('hang')) {
      held.add(socket);
      socket.on('close', () => held.delete(socket));
      socket.on('error', () => {});
      return; // never answered
    }
    // refused (also in buffer-sse mode): what a proxy without WebSocket support answers
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const failoverPort = await listen(front);

  return {
    mainPort,
    sioPort,
    failoverPort,
    setFailoverMode: (m) => {
      mode = m;
      for (const h of held) h.destroy();
      held.clear();
      sessionsMade = 0;
    },
    failoverSessions: () => sessionsMade,
    nextResult,
    async close() {
      for (const h of held) h.destroy();
      await rt.close();
      await rt2.close();
      sio.close();
      rawWss.close();
      for (const s of [main, sioHttp, front]) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
}
