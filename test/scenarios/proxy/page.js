// The browser side of the proxy tests: one client from the UMD bundle, counting the server's ticks per session (with
// their arrival times) and emitting its own counter. The test reads `window.proxyTest.snapshot()`.
(() => {
  const params = new URLSearchParams(location.search);
  const url = params.get('url') || location.origin + '/realtime';
  const id = params.get('c') || 'page';
  const upEveryMs = Number(params.get('up') || 0);
  const options = { storage: null, backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 } };
  if (params.get('transports')) options.transports = params.get('transports').split(',');
  if (params.get('race')) options.raceAfterMs = Number(params.get('race'));
  const client = new RealtimeFallback.RealtimeClient(url, options);
  const started = performance.now();
  const at = () => Math.round(performance.now() - started);
  const state = { ticks: {}, arrivals: [], transports: [], failures: [], resyncs: 0, accepted: 0, closed: null, errors: [] };
  client.on('tick', (tick) => {
    (state.ticks[client.sessionId] = state.ticks[client.sessionId] || []).push(typeof tick === 'number' ? tick : tick.n);
    state.arrivals.push(at());
  });
  client.lifecycle.on('transport', (e) => state.transports.push({ transport: e.transport, reason: e.reason, at: at() }));
  client.lifecycle.on('transportFailed', (e) => state.failures.push({ transport: e.transport, kind: e.failure.kind, code: e.failure.code || null, probe: e.probe, at: at() }));
  client.lifecycle.on('resync', () => state.resyncs++);
  client.lifecycle.on('error', (e) => state.errors.push(e.code + ': ' + e.message));
  client.lifecycle.on('close', (e) => (state.closed = { reason: e.reason, code: e.error ? e.error.code : null, message: e.error ? e.error.message : null, isRealtimeError: e.error instanceof RealtimeFallback.RealtimeError }));
  const traffic = upEveryMs > 0 ? setInterval(() => {
    if (client.state === 'closed') return;
    client.emit('up', { c: id, n: state.accepted + 1 });
    state.accepted++;
  }, upEveryMs) : 0;
  window.proxyTest = {
    snapshot: () => ({ ...state, now: at(), state: client.state, transport: client.transport, queued: client.queued.messages }),
    stopTraffic: () => clearInterval(traffic),
    close: () => {
      clearInterval(traffic);
      client.close();
    },
  };
})();
