// The browser side of the soak: N clients from the UMD bundle, each counting ticks per session, emitting its own
// counter and making requests. The Node side injects faults and reads `window.soak.snapshot()` at the end.
(() => {
  const params = new URLSearchParams(location.search);
  const n = Number(params.get('clients') || 3);
  const mixes = [['websocket', 'sse', 'polling'], ['sse', 'polling'], ['polling'], ['websocket']];
  const clients = [];
  const latencies = [];
  for (let i = 0; i < n; i++) {
    const c = {
      id: 'b' + i,
      ticks: {},
      lostSessions: [],
      resent: 0,
      resyncReasons: [],
      accepted: 0,
      pending: 0,
      switches: 0,
      transports: [],
      client: new RealtimeFallback.RealtimeClient(location.origin + '/realtime', {
        transports: mixes[i % mixes.length],
        storage: null,
        openTimeoutMs: { websocket: 1500, sse: 1500, polling: 3000 },
        backoff: { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.5 },
        retriesPerTransport: 2,
        upgradeProbeMs: 1000,
        maxQueuedMessages: 100000,
        maxQueuedBytes: 64 * 1024 * 1024,
      }),
    };
    c.client.on('tick', (m) => {
      latencies.push(Date.now() - m.t);
      const sid = c.client.sessionId;
      (c.ticks[sid] = c.ticks[sid] || []).push(m.n);
    });
    c.client.lifecycle.on('transport', (e) => {
      c.transports.push(e.transport);
      if (e.previous !== null) c.switches++;
    });
    // The soak's faults make whole walks fail (transport_failed): expected, and heard here, so that the console
    // (which fails the run) keeps only real faults.
    c.client.lifecycle.on('error', () => {});
    c.client.lifecycle.on('resync', (e) => {
      c.lostSessions.push(e.previousSessionId);
      c.resent += e.resent;
      c.resyncReasons.push(e.reason);
    });
    clients.push(c);
  }
  const requests = { made: 0, resolved: 0, rejected: {} };
  const traffic = setInterval(() => {
    for (const c of clients) {
      try {
        c.client.emit('up', { c: c.id, n: c.accepted + 1 });
        c.accepted++;
      } catch (e) {
        if (!(e instanceof RealtimeFallback.RealtimeError)) throw e;
      }
    }
  }, 50);
  const asking = setInterval(() => {
    for (const c of clients) {
      requests.made++;
      c.pending++;
      c.client.request('echo', { c: c.id }, { timeout: 4000 }).then(
        () => requests.resolved++,
        (e) => (requests.rejected[e.code] = (requests.rejected[e.code] || 0) + 1),
      ).finally(() => c.pending--);
    }
  }, 400);
  window.soak = {
    stopTraffic() {
      clearInterval(traffic);
      clearInterval(asking);
    },
    snapshot() {
      return {
        requests,
        latencies,
        clients: clients.map((c) => ({
          id: c.id,
          sessionId: c.client.sessionId,
          state: c.client.state,
          ticks: c.ticks,
          lostSessions: c.lostSessions,
          resent: c.resent,
          resyncReasons: c.resyncReasons,
          accepted: c.accepted,
          pending: c.pending,
          switches: c.switches,
          transports: c.transports,
        })),
      };
    },
    close() {
      for (const c of clients) c.client.close();
    },
  };
})();
