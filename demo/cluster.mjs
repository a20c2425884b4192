// `npm run demo -- --nodes N`: the demo on several server processes sharing sessions through Redis, behind a
// round-robin balancer on the demo port, so a person can kill the node holding their connection and watch the session
// carry on elsewhere. Started here: a throwaway redis-server, N node processes (demo/node.mjs), one publisher in this
// process (ticks and `count` streams: they must outlive any node), and the balancer (demo/round-robin-proxy.mjs).
//
// This process answers GET /demo/cluster (the nodes) and POST /demo/cluster/kill?name=X (SIGKILL that node, start it
// again on its port after `restartMs`) itself; every other request and upgrade goes through the balancer.
import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRealtimeServer } from '../dist/server.mjs';
import { redisAdapter } from '../dist/server-redis.mjs';
import { startRedisServer } from './redis-server.mjs';
import { startRoundRobinProxy } from './round-robin-proxy.mjs';
import { DEFAULT_PORT } from './server.mjs';

const NODE_ENTRY = fileURLToPath(new URL('./node.mjs', import.meta.url));
const NODE_READY_MS = 20_000;

/**
 * Starts the cluster. Resolves with `{ url, port, nodes(), pids(), kill(name), close() }`; `close()` stops the
 * balancer, kills every node, closes the publisher and stops Redis. Tries `port` first and takes a free one if it is
 * busy (unless `strictPort`). `tickMs` is the interval of the tick stream.
 */
export async function startDemoCluster({
  nodes = 3,
  port = DEFAULT_PORT,
  host = '127.0.0.1',
  strictPort = false,
  tickMs = 1000,
  restartMs = 3000,
  log = console.log,
} = {}) {
  /** Each node: `{ name, port, alive, child }`; `port` stays the node's own across restarts. */
  const members = Array.from({ length: nodes }, (_, i) => ({ name: `node-${i + 1}`, port: 0, alive: false, child: null }));
  /** Every node process running now, for the exit hook; every pid ever started (redis included), for tests. */
  const children = new Set();
  const pids = [];
  /** Restart timers, the ticker and count streams: all cleared by close(). */
  const timers = new Set();
  let redis;
  let publisher;
  let proxy;
  let closing;

  // An exception or process.exit() in the launcher must not leave nodes running (redis-server.mjs covers Redis).
  const killChildren = () => {
    for (const child of children) signal(child, 'SIGKILL');
  };
  process.on('exit', killChildren);

  /** Forks a node on `port` (0: a free one) and resolves once it listens. */
  function startNode(member, nodePort) {
    const child = fork(NODE_ENTRY, [], {
      env: { ...process.env, REDIS_URL: redis.url, NODE_NAME: member.name, PORT: String(nodePort) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    children.add(child);
    pids.push(child.pid);
    member.child = child;
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => log(line));
    child.on('message', (m) => {
      if (m?.t === 'count') startCount(m);
    });
    child.once('exit', () => {
      children.delete(child);
      if (member.child === child) member.alive = false;
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${member.name}: not ready within ${NODE_READY_MS} ms`)), NODE_READY_MS);
      child.on('message', (m) => {
        if (m?.t !== 'ready') return;
        clearTimeout(timer);
        member.port = m.port;
        member.alive = true;
        resolve();
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`${member.name} exited (${sig ?? code}) before it was ready`));
      });
    });
  }

  /** SIGKILL, as a crash: no shutdown, nothing flushed. Resolves once the process has exited. */
  function killNode(member) {
    const child = member.child;
    member.alive = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise((resolve) => child.once('exit', () => resolve()));
    signal(child, 'SIGKILL');
    return exited;
  }

  /** The page's kill button: kill `name`, start it again on the same port after `restartMs`. */
  function kill(name) {
    const member = members.find((m) => m.name === name);
    if (!member || !member.alive || closing) return false;
    log(`[cluster] killing ${name} (SIGKILL); it comes back on port ${member.port} in ${restartMs} ms`);
    void killNode(member);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closing) return;
      startNode(member, member.port).then(
        () => log(`[cluster] ${name} is back on port ${member.port}`),
        (err) => log(`[cluster] ${name} did not come back: ${err.message}`),
      );
    }, restartMs);
    timers.add(timer);
    return true;
  }

  /** A `count` stream, run here so that it outlives the node that took the request. */
  function startCount({ sid, to, everyMs }) {
    if (closing) return;
    let n = 0;
    const timer = setInterval(() => {
      publisher.toSession(sid).emit('count', { n: ++n });
      if (n >= to) {
        clearInterval(timer);
        timers.delete(timer);
      }
    }, everyMs);
    timers.add(timer);
  }

  /** GET /demo/cluster and POST /demo/cluster/kill; false for anything else (the balancer's). */
  function clusterEndpoint(req, res) {
    const url = new URL(req.url ?? '/', 'http://demo');
    const reply = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/demo/cluster') {
      reply(200, { nodes: members.map(({ name, port: p, alive }) => ({ name, port: p, alive })) });
      return true;
    }
    if (url.pathname === '/demo/cluster/kill') {
      if (req.method !== 'POST') res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain' }).end('use POST');
      else {
        const name = url.searchParams.get('name') ?? '';
        if (kill(name)) reply(200, { killed: name, restartMs });
        else reply(409, { error: `no live node named ${JSON.stringify(name)}` });
      }
      return true;
    }
    return false;
  }

  async function listen() {
    // Only live nodes get traffic; a dead one's port would be refused and skipped anyway, at the cost of a try.
    const targets = () => members.filter((m) => m.alive).map((m) => m.port);
    try {
      return await startRoundRobinProxy(targets, { port, host });
    } catch (err) {
      if (err?.code !== 'EADDRINUSE' || strictPort) throw err;
      log(`[cluster] port ${port} is busy; using a free one`);
      return startRoundRobinProxy(targets, { port: 0, host });
    }
  }

  const close = () =>
    (closing ??= (async () => {
      for (const t of timers) clearTimeout(t); // intervals too: Node clears either with either
      await proxy?.close();
      await Promise.all(members.map(killNode));
      await publisher?.close();
      await redis?.stop();
      process.off('exit', killChildren);
    })());

  try {
    redis = await startRedisServer();
    pids.push(redis.pid);
    await Promise.all(members.map((m) => startNode(m, 0)));
    publisher = createRealtimeServer({
      adapter: await redisAdapter({ url: redis.url }),
      logger: { debug() {}, warn: (m, meta) => log(`[publisher] ${m}`, meta ?? ''), error: (m, meta) => log(`[publisher] ${m}`, meta ?? '') },
    });
    let tick = 0;
    timers.add(setInterval(() => publisher.emit('tick', { n: ++tick, at: Date.now() }), tickMs));
    proxy = await listen();
  } catch (err) {
    await close();
    throw err;
  }

  // The balancer handles every request; the cluster's own endpoints must come first, so its one request listener is
  // wrapped (the upgrade listener stays: WebSockets all go to the nodes).
  const forward = proxy.server.listeners('request')[0];
  proxy.server.removeAllListeners('request');
  proxy.server.on('request', (req, res) => {
    if (!clusterEndpoint(req, res)) forward(req, res);
  });

  return {
    url: `http://${host}:${proxy.port}/`,
    port: proxy.port,
    redisUrl: redis.url,
    nodes: () => members.map(({ name, port: p, alive, child }) => ({ name, port: p, alive, pid: child?.pid ?? -1 })),
    pids: () => [...pids],
    kill,
    close,
  };
}

function signal(child, sig) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, sig);
  } catch {
    // already gone
  }
}
