// Server scale on one node (issue 15, goal 4), one process per role:
//   node --expose-gc bench/scale.mjs server <ours|sio> <heartbeatMs>  → IPC {port}; answers {sample: true} with
//     {heap, external, rss, cpuMs} after a full GC (heap: used JS heap; external: Buffers and the like)
//   node bench/scale.mjs clients <ours|sio> <websocket|sse> <port> <count> <spreadMs>
//     → opens <count> sessions, their start times spread evenly over <spreadMs> (0: in batches of 100, as fast as
//     accepted), keeps them idle (answering heartbeats as the clients do), then IPC {connected, acceptsPerSec,
//     p50, p99} (handshake times, ms); on {close: true} closes them and exits.
// Clients are raw sockets speaking each server's protocol (ours: the handshake and nothing else, as an idle
// browser client; socket.io: engine.io v4 open, `40`, pong on every ping), so both sides of the comparison pay the
// same for the client.
import http from 'node:http';
import { WebSocket } from 'ws';

const [role, kind, a3, a4, a5, a6] = process.argv.slice(2);

if (role === 'server') {
  const heartbeatMs = Number(a3);
  const server = http.createServer();
  server.maxConnections = 50_000;
  if (kind === 'ours') {
    const { createRealtimeServer } = await import('../dist/server.mjs');
    const { RT_OPTIONS } = await import('./servers.mjs');
    const rt = createRealtimeServer({ ...RT_OPTIONS, heartbeatMs, server });
    rt.on('connection', () => {});
  } else {
    const { Server } = await import('socket.io');
    const io = new Server(server, { serveClient: false, transports: ['websocket'], pingInterval: heartbeatMs, pingTimeout: heartbeatMs });
    io.on('connection', () => {});
  }
  server.listen(0, '127.0.0.1', 2048, () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (!m.sample) return;
    globalThis.gc?.();
    globalThis.gc?.();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    // `external` already counts Buffers (memoryUsage's arrayBuffers is a part of it, not an addition).
    process.send({ heap: mem.heapUsed, external: mem.external, rss: mem.rss, cpuMs: (cpu.user + cpu.system) / 1000 });
  });
  process.on('SIGINT', () => process.exit(0));
} else if (role === 'clients') {
  const transport = a3;
  const port = Number(a4);
  const count = Number(a5);
  const spreadMs = Number(a6);
  const handshakes = [];
  const closers = [];
  let firstStart = Infinity;
  let lastWelcome = 0;

  const openOne = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      firstStart = Math.min(firstStart, started);
      const done = () => {
        const t = performance.now();
        lastWelcome = Math.max(lastWelcome, t);
        handshakes.push(t - started);
        resolve();
      };
      if (kind === 'ours' && transport === 'sse') {
        const req = http.get({ host: '127.0.0.1', port, path: '/realtime/sse?v=1', agent: false, headers: { Accept: 'text/event-stream' } }, (res) => {
          res.setEncoding('utf8');
          let welcomed = false;
          res.on('data', (chunk) => {
            if (!welcomed && chunk.includes('"welcome"')) {
              welcomed = true;
              done();
            }
          });
        });
        req.on('error', reject);
        closers.push(() => req.destroy());
        return;
      }
      const url = kind === 'ours' ? `ws://127.0.0.1:${port}/realtime/ws?v=1` : `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('error', reject);
      ws.on('message', (data) => {
        const s = String(data);
        if (kind === 'ours') {
          if (s.includes('"welcome"')) done();
          return;
        }
        if (s[0] === '0') ws.send('40');
        else if (s === '2') ws.send('3');
        else if (s.startsWith('40')) done();
      });
      closers.push(() => ws.terminate());
    });

  if (spreadMs > 0) {
    // A reconnect storm: every client's first retry lands somewhere in the same window, as jittered backoff spreads it.
    const opens = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const at = (i / count) * spreadMs;
      opens.push(new Promise((r) => setTimeout(r, Math.max(0, at - (performance.now() - t0)))).then(openOne));
    }
    await Promise.all(opens);
  } else {
    for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: Math.min(100, count - i) }, openOne));
  }
  handshakes.sort((x, y) => x - y);
  const q = (p) => handshakes[Math.min(handshakes.length - 1, Math.floor(p * handshakes.length))];
  process.send({ connected: handshakes.length, acceptsPerSec: (handshakes.length / (lastWelcome - firstStart)) * 1000, p50: q(0.5), p99: q(0.99) });
  process.on('message', (m) => {
    if (!m.close) return;
    for (const c of closers) c();
    setTimeout(() => process.exit(0), 200);
  });
}

/**
 * Runs the whole comparison (for scripts/bench.mjs, or `node bench/scale.mjs` alone): per server and transport,
 * memory per idle session after a full GC, server CPU over an idle window of two heartbeats, and the accept rate of a
 * reconnect storm.
 */
export async function scale({ websocket = 10_000, sse = 2_000, storm = 5_000, stormSpreadMs = 250, heartbeatMs = 5_000 } = {}) {
  const { fork } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const self = fileURLToPath(import.meta.url);
  const once = (child, key) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m[key] === undefined) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`${key}: process exited (${code})`)));
    });
  const results = [];
  const cases = [
    { server: 'ours', transport: 'websocket', count: websocket },
    { server: 'sio', transport: 'websocket', count: websocket },
    { server: 'ours', transport: 'sse', count: sse },
  ];
  for (const c of cases) {
    const server = fork(self, ['server', c.server, String(heartbeatMs)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const children = [server];
    try {
      const { port } = await once(server, 'port');
      server.send({ sample: true });
      const before = await once(server, 'heap');
      const clients = fork(self, ['clients', c.server, c.transport, String(port), String(c.count), '0'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(clients);
      const opened = await once(clients, 'connected');
      await new Promise((r) => setTimeout(r, 1000));
      server.send({ sample: true });
      const loaded = await once(server, 'heap');
      // Idle: two heartbeats' worth of whatever the server does for sessions nobody talks to.
      await new Promise((r) => setTimeout(r, 2 * heartbeatMs));
      server.send({ sample: true });
      const idle = await once(server, 'heap');
      clients.send({ close: true });
      await new Promise((r) => clients.once('exit', r));
      results.push({
        ...c,
        connected: opened.connected,
        heapPerSession: (loaded.heap - before.heap) / c.count,
        externalPerSession: (loaded.external - before.external) / c.count,
        rssPerSession: (loaded.rss - before.rss) / c.count,
        idleCpuMsPerSessionPerMin: ((idle.cpuMs - loaded.cpuMs) / c.count) * (60_000 / (2 * heartbeatMs)),
      });
      if (c.transport === 'websocket' && storm > 0) {
        const stormClients = fork(self, ['clients', c.server, c.transport, String(port), String(storm), String(stormSpreadMs)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(stormClients);
        const s = await once(stormClients, 'connected');
        stormClients.send({ close: true });
        await new Promise((r) => stormClients.once('exit', r));
        Object.assign(results.at(-1), { storm: { clients: s.connected, acceptsPerSec: s.acceptsPerSec, p50: s.p50, p99: s.p99 } });
      }
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
  return results;
}

if (process.argv[1] && process.argv[1].endsWith('scale.mjs') && role === undefined) {
  console.log(JSON.stringify(await scale(), null, 2));
}
