/**
 * A round-robin load balancer, for the cluster tests and `npm run demo -- --nodes N`: plain JavaScript so the demo
 * runs it with node alone (types in round-robin-proxy.d.mts). Every plain HTTP request and every WebSocket upgrade
 * goes to the next target in turn, whoever sent it, so one client's consecutive requests (a poll, a send, an SSE
 * reconnect) land on different nodes: the cluster tests use it to prove the server needs no sticky sessions.
 *
 * It behaves as a real balancer does where the tests depend on it: responses stream back as they arrive (SSE and
 * long-polls are never buffered), a target that refuses connections (a dead node) is skipped, and when a node's side
 * of a connection closes the client's side is dropped at once, so a killed node's clients notice immediately.
 */
import http from 'node:http';
import net from 'node:net';

/**
 * Headers that describe one hop's connection, not the message (RFC 9110 §7.6.1): each side of the proxy has its own
 * connection, so these are never copied across. Node frames the body again on each side (chunked or length).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * `targets()` is read for every new request and upgrade, so a test can change the set as nodes die and return.
 * Listens on `listen.port` of `listen.host` (default: a free loopback port); rejects if that port is busy.
 */
export async function startRoundRobinProxy(targets, listen = {}) {
  const sockets = new Set();
  const requests = new Map();
  const upgrades = new Map();
  const refused = new Map();
  /** One cursor for requests and upgrades alike, as a balancer has one per upstream group. */
  let cursor = 0;
  let closed = false;

  const track = (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  /** The next target in turn, then the ones after it: a refused connection moves on, each target tried once. */
  const order = () => {
    const list = targets();
    const start = cursor++;
    return list.map((_, i) => list[(start + i) % list.length]);
  };

  /** Connects to a target; the socket is tracked from its creation, so `close()` also ends attempts in flight. */
  const connect = (port) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    // Frames of a stream must leave as soon as they arrive, not wait for Nagle to coalesce them.
    socket.setNoDelay(true);
    track(socket);
    return socket;
  };

  const server = http.createServer((req, res) => forward(req, res, order()));
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    track(socket);
  });
  server.on('upgrade', (req, client, head) => {
    // A client that goes away while a target is being chosen must not crash the test process.
    client.on('error', () => client.destroy());
    tunnel(req, client, head, order());
  });

  /** One plain request, streamed to `ports[0]` and its response streamed back; the next port if it refuses. */
  function forward(req, res, ports) {
    const port = ports.shift();
    if (closed) return void req.socket.destroy();
    if (port === undefined) return void res.writeHead(502, { 'Content-Type': 'text/plain' }).end('no target accepted the connection\n');

    let connected = false;
    const socket = connect(port);
    // No agent: each request has its own target connection (closed after it), so nothing is pooled beyond the
    // request and a node restarted on the same port never gets a request on its previous process's connection.
    const upstream = http.request({
      method: req.method,
      path: req.url,
      headers: { ...endToEnd(req.headers), 'x-forwarded-for': forwardedFor(req) },
      createConnection: () => socket,
    });
    // The body is piped only once the target has accepted the connection: a refused attempt has then consumed none
    // of it, and the same request can go to the next target whole.
    socket.once('connect', () => {
      connected = true;
      count(requests, port);
      req.pipe(upstream);
    });
    upstream.on('error', () => {
      if (!connected && !res.headersSent && !req.socket.destroyed) {
        count(refused, port);
        return forward(req, res, ports);
      }
      // The target went away mid-request: drop the client's connection, as the node's own would have been.
      req.socket.destroy();
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      // SSE and long-poll responses start with headers alone; send them now rather than with the first chunk.
      res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => req.socket.destroy());
      answer.on('close', () => {
        if (!answer.complete) req.socket.destroy();
      });
    });
    // The client went away before the whole response was written: release the target's side too.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  /** One upgrade, tunnelled byte for byte to `ports[0]` (the next port if it refuses); none left: the client is dropped. */
  function tunnel(req, client, head, ports) {
    const port = ports.shift();
    if (closed || client.destroyed || port === undefined) return void client.destroy();
    const upstream = connect(port);
    const refusedHere = () => {
      count(refused, port);
      tunnel(req, client, head, ports);
    };
    upstream.once('error', refusedHere);
    upstream.once('connect', () => {
      upstream.off('error', refusedHere);
      if (client.destroyed) return void upstream.destroy();
      count(upgrades, port);
      // The target parses the handshake itself, so it gets the request as the client sent it, plus who sent it.
      upstream.write(requestHead(req));
      if (head.length > 0) upstream.write(head);
      splice(client, upstream);
    });
  }

  const host = listen.host ?? '127.0.0.1';
  const port = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => resolve(server.address().port));
  });

  return {
    port,
    url: `http://${host}:${port}`,
    server,
    async close() {
      closed = true;
      const stopped = new Promise((resolve) => server.close(() => resolve()));
      const gone = [...sockets].map((s) => new Promise((resolve) => (s.once('close', () => resolve()), s.destroy())));
      await Promise.all([stopped, ...gone]);
    },
    stats: () => ({
      requests: Object.fromEntries(requests),
      upgrades: Object.fromEntries(upgrades),
      refused: Object.fromEntries(refused),
      openSockets: sockets.size,
    }),
  };
}

/** Pipes two connections into each other; when either closes or fails, the other is destroyed at once. */
function splice(a, b) {
  const drop = () => {
    a.destroy();
    b.destroy();
  };
  for (const side of [a, b]) {
    side.on('error', drop);
    side.on('close', drop);
  }
  a.pipe(b);
  b.pipe(a);
}

function count(counts, port) {
  counts.set(port, (counts.get(port) ?? 0) + 1);
}

/** The client's address appended to any list it sent (the server decides, with `trustProxy`, whom to believe). */
function forwardedFor(req) {
  const prior = req.headers['x-forwarded-for'];
  const address = req.socket.remoteAddress ?? 'unknown';
  return prior ? `${String(prior)}, ${address}` : address;
}

/** The headers that belong to the message, minus hop-by-hop ones and any the Connection header names. Host stays. */
function endToEnd(headers) {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  const kept = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) kept[name] = value;
  }
  return kept;
}

/** The upgrade request line and headers as received (case and order kept), with X-Forwarded-For set. */
function requestHead(req) {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== 'x-forwarded-for') lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  lines.push(`X-Forwarded-For: ${forwardedFor(req)}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
