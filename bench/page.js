// Runs one benchmark scenario in a headless Chromium launched with no automation attached (see scripts/bench.mjs),
// then POSTs the figures to /result. Scenario and sizes come from the query string.
/* global RealtimeFallback, io */
const P = new URLSearchParams(location.search);
const S = P.get('s');
const N = Number(P.get('n'));
const RTT = Number(P.get('rtt'));
const t0 = performance.now();

const report = (r) => fetch('/result', { method: 'POST', body: JSON.stringify({ scenario: S, ...r }) });
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const deferred = () => {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
};
const wsBase = location.origin.replace(/^http/, 'ws');

/**
 * Each adapter: open() resolves at the first message (`hello`); go() asks the server for N messages and resolves
 * when the last arrived; echo(i) is one request/reply.
 */
function adapter(kind) {
  let onData = () => {};
  const hello = deferred();
  let echoWait = null;
  const handle = (msg) => {
    if (msg.e === 'hello') hello.resolve();
    else if (msg.e === 'm') onData();
    else if (msg.e === 'echo' && echoWait) echoWait(msg.d);
  };
  // Resolves with the time the first message was handled: for a long-poll, start → first is the server's loop, the
  // transfer and the parse; first → last the client's per-message work.
  const burst = (send) => {
    const done = deferred();
    let count = 0;
    let firstAt = 0;
    onData = () => {
      if (++count === 1) firstAt = performance.now();
      if (count === N) done.resolve(firstAt);
    };
    send();
    return done.promise;
  };
  const echoVia = (send) => (i) =>
    new Promise((resolve) => {
      echoWait = resolve;
      send(i);
    });

  switch (kind) {
    case 'ours-websocket':
    case 'ours-sse':
    case 'ours-polling': {
      const transport = kind.slice(5);
      const c = new RealtimeFallback.RealtimeClient(location.origin + '/realtime', {
        transports: [transport],
        rememberTransportMs: 0,
        upgradeProbeMs: 0,
      });
      c.on('hello', () => hello.resolve());
      c.on('m', () => onData());
      return { opened: hello.promise, go: () => burst(() => c.emit('go', N)), echo: (i) => c.request('echo', i), close: () => c.close() };
    }
    case 'raw-websocket': {
      const ws = new WebSocket(wsBase + '/raw-ws');
      ws.onmessage = (e) => handle(JSON.parse(e.data));
      return {
        opened: hello.promise,
        go: () => burst(() => ws.send(JSON.stringify({ go: N }))),
        echo: echoVia((i) => ws.send(JSON.stringify({ echo: i }))),
        close: () => ws.close(),
      };
    }
    case 'raw-sse': {
      const id = Math.random().toString(36).slice(2);
      const es = new EventSource('/raw-sse?id=' + id);
      es.onmessage = (e) => handle(JSON.parse(e.data));
      return {
        opened: hello.promise,
        go: () => burst(() => fetch(`/raw-sse/go?id=${id}&n=${N}`, { method: 'POST' })),
        echo: echoVia((i) => fetch(`/raw-sse/echo?id=${id}&i=${i}`, { method: 'POST' })),
        close: () => es.close(),
      };
    }
    case 'raw-polling': {
      const id = Math.random().toString(36).slice(2);
      let stop = false;
      (async () => {
        while (!stop) {
          const res = await fetch('/raw-poll?id=' + id);
          const batch = await res.json();
          for (const m of batch) handle(m);
        }
      })();
      return {
        opened: hello.promise,
        go: () => burst(() => fetch(`/raw-poll/go?id=${id}&n=${N}`, { method: 'POST' })),
        echo: echoVia((i) => fetch(`/raw-poll/echo?id=${id}&i=${i}`, { method: 'POST' })),
        close: () => (stop = true),
      };
    }
    case 'sio-websocket':
    case 'sio-polling': {
      const socket = io(location.origin, { transports: [kind.slice(4)] });
      socket.on('hello', () => hello.resolve());
      socket.on('m', () => onData());
      return {
        opened: hello.promise,
        go: () => burst(() => socket.emit('go', N)),
        echo: (i) => socket.emitWithAck('echo', i),
        close: () => socket.close(),
      };
    }
    default:
      throw new Error('unknown scenario ' + kind);
  }
}

/** Failover: the full client (default options), a hostile server; time from construction to the first message. */
async function failover() {
  const c = new RealtimeFallback.RealtimeClient(location.origin + '/realtime', { upgradeProbeMs: 0 });
  const failures = [];
  c.lifecycle.on('transportFailed', (e) => failures.push({ at: performance.now() - t0, transport: e.transport }));
  await new Promise((resolve) => c.on('hello', resolve));
  const ms = performance.now() - t0;
  await report({ failoverMs: ms, transport: c.transport, failures });
  c.close();
}

async function main() {
  if (S.startsWith('failover')) return failover();
  const a = adapter(S);
  await a.opened;
  const ttfmMs = performance.now() - t0;
  const rtts = [];
  for (let i = 0; i < RTT; i++) {
    const s = performance.now();
    await a.echo(i);
    rtts.push(performance.now() - s);
  }
  const start = performance.now();
  const firstAt = await a.go();
  const burstMs = performance.now() - start;
  a.close();
  await new Promise((r) => setTimeout(r, 200));
  if (typeof gc === 'function') gc();
  const heap = performance.memory ? performance.memory.usedJSHeapSize : null;
  await report({
    ttfmMs,
    msgsPerSec: (N / burstMs) * 1000,
    burstMs,
    firstInBurstMs: firstAt - start,
    rttP50: pct(rtts, 50),
    rttP99: pct(rtts, 99),
    heapBytes: heap,
  });
}

main().catch((err) => report({ error: String(err && err.stack ? err.stack : err) }));
