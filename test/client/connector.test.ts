/**
 * The connector on its own, with a stand-in mode: what it does when a transport's lazy chunk does not download (the
 * ESM build loads SSE and polling on first use).
 */
import { describe, expect, it, vi } from 'vitest';
import type { Transport } from '../../src/transports/transport';
import type { ClientMode } from '../../src/client/mode/mode';
import { createConnector } from '../../src/client/connector';
import type { ConnectorHost } from '../../src/client/connector-types';
import { TypedEmitter } from '../../src/client/emitter';
import type { ClientState, LifecycleEvents } from '../../src/client/lifecycle';
import { BackoffScheduler } from '../../src/client/scheduler';

function standInMode(prepare: () => Promise<void> | null, made: string[]): ClientMode {
  return {
    requests: true,
    probes: false,
    refusalMeansUnavailable: false,
    url: () => 'http://x.test/rt',
    handshake: () => ({ query: {}, hidden: {} }),
    prepare,
    createTransport: (name): Transport => {
      made.push(name);
      return { name, connect() {}, send() {}, close() {} };
    },
    livenessLimitMs: () => 0,
    reopenDelayMs: () => undefined,
  };
}

describe('connector', () => {
  it('a transport chunk that fails to download is a failed attempt: said, retried with backoff, then opened', async () => {
    const scheduler = new BackoffScheduler({ initialMs: 10, maxMs: 10, factor: 1, jitter: 0 });
    const life = new TypedEmitter<LifecycleEvents>();
    const reconnecting: LifecycleEvents['reconnecting'][] = [];
    life.on('reconnecting', (e) => reconnecting.push(e));
    const logged: string[] = [];
    let state: ClientState = 'idle';
    const host: ConnectorHost = {
      get state() {
        return state;
      },
      setState: (s) => (state = s),
      welcomed() {},
      opened() {},
      received() {},
      prepare: () => null,
      lost() {},
      stop() {},
    };
    let loads = 0;
    const made: string[] = [];
    const mode = standInMode(() => (++loads === 1 ? Promise.reject(new Error('ChunkLoadError')) : Promise.resolve()), made);
    const connector = createConnector(
      { mode, environment: {}, scheduler, transports: ['sse'], openTimeoutMs: { websocket: 1000, sse: 1000, polling: 1000 }, withCredentials: false, logger: () => {} },
      { transports: ['sse'], retriesPerTransport: 3, raceAfterMs: 1000, auth: undefined, storage: null, rememberTransportMs: 0, logger: (_l, m) => logged.push(m), debug: false },
      'http://x.test/rt',
      life,
      host,
    );
    connector.start();
    await new Promise((r) => setTimeout(r, 5));
    expect(made).toEqual([]); // nothing opened without its code
    expect(logged).toEqual(['could not load the sse transport']);
    expect(reconnecting).toEqual([{ attempt: 1, delayMs: 10, transport: 'sse', reason: 'could not load the sse transport' }]);
    await vi.waitFor(() => expect(made).toEqual(['sse'])); // the second download worked: the transport opens
    expect(loads).toBe(2);
    expect(state).toBe('connecting');
    connector.stop();
    scheduler.dispose();
  });
});
