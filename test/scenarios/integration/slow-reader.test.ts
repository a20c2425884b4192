/**
 * A slow reader is told apart from a big message (docs/failure-behaviour.md, "Server limits"): a client behind a proxy that reads from the
 * server at ~64 KB/s is cut once what the server holds for it stayed above `maxBufferedBytes` for `slowReaderMs`,
 * resumes, and gets every message once; a fast reader of messages of the limit, in bursts, is never cut.
 * Timing-sensitive (a throttling proxy): run under the shared lock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/server';
import { cleanup, connectClient, range, startHarness, waitUntil, whenOpen } from './harness';
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy';

let proxy: ThrottleProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

function warnLogger(): Logger & { warnings: string[]; errors: unknown[][] } {
  const warnings: string[] = [];
  const errors: unknown[][] = [];
  return { warnings, errors, debug: () => {}, warn: (m) => void warnings.push(m), error: (...a: unknown[]) => void errors.push(a) };
}

const KIB = 1024;
const MIB = 1024 * KIB;

describe.each(['websocket', 'sse'] as const)('over %s', (transport) => {
  it('a reader throttled to ~64 KB/s is cut as slow, resumes, and gets every message once, in order', async () => {
    const logger = warnLogger();
    const h = await startHarness({
      logger,
      maxMessageBytes: 64 * KIB,
      maxBufferedBytes: 2 * MIB,
      slowReaderMs: 1000,
      heartbeatMs: 10_000, // the client's liveness must not be what cuts it
      replayBufferMaxBytes: 256 * MIB, // holds everything in flight
      replayBufferMaxMessages: 100_000,
    });
    proxy = await startThrottleProxy(h.port, 64 * KIB);
    const rig = await connectClient(`http://127.0.0.1:${proxy.port}/realtime`, { transports: [transport] });
    const got: number[] = [];
    rig.client.on('tick', (d) => void got.push((d as { i: number }).i));
    await whenOpen(rig.client, transport);
    const session = h.sessions[0]!;

    // ~1 MB/s, far more than the reader takes: once kernel buffers are full, the server's buffer grows ~1 MB/s, so it
    // stays between maxBufferedBytes and the hard bound (4x) for seconds: the slow-reader rule is what cuts it.
    const pad = 'p'.repeat(16 * KIB);
    let sent = 0;
    const cut = (): boolean => logger.warnings.some((w) => /not reading fast enough/.test(w));
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (cut()) {
          clearInterval(timer);
          return resolve();
        }
        if (Date.now() - started > 30_000) {
          clearInterval(timer);
          return reject(new Error(`not cut after 30 s; warnings ${JSON.stringify(logger.warnings)}`));
        }
        for (let k = 0; k < 3; k++) session.emit('tick', { i: ++sent, pad });
      }, 50);
    });
    expect(logger.warnings.some((w) => /hard bound/.test(w))).toBe(false);
    expect(got.length).toBeLessThan(sent); // it really was behind
    proxy.throttled = false; // the reader recovers

    await waitUntil(() => got.length >= sent, 30_000, () => `every message (got ${got.length} of ${sent})`);
    await waitUntil(() => rig.client.state === 'open', 5000, 'open again');
    expect(got).toEqual(range(sent)); // nothing lost, nothing twice, in order
    expect(rig.of('resync')).toEqual([]);
    expect(rig.of('transportFailed').length).toBeGreaterThanOrEqual(1);
    expect(h.sessions).toHaveLength(1); // resumed, never a new session
  }, 60_000);

  it('a fast reader of 40 messages of the limit (1 MiB, the default), in bursts of 8, is never cut', async () => {
    const logger = warnLogger();
    const h = await startHarness({ logger, heartbeatMs: 5000 });
    const rig = await connectClient(h.base, { transports: [transport] });
    const got: number[] = [];
    rig.client.on('big', (d) => void got.push((d as { i: number }).i));
    await whenOpen(rig.client, transport);
    const session = h.sessions[0]!;
    const pad = (i: number): string => 'b'.repeat(MIB - Buffer.byteLength(JSON.stringify({ e: 'big', d: { i, pad: '' } })));
    for (let burst = 0; burst < 5; burst++) {
      for (let k = 1; k <= 8; k++) {
        const i = burst * 8 + k;
        const data = { i, pad: pad(i) };
        expect(Buffer.byteLength(JSON.stringify({ e: 'big', d: data }))).toBe(MIB);
        session.emit('big', data);
      }
      await waitUntil(() => got.length === (burst + 1) * 8, 20_000, () => `burst ${burst + 1} (got ${got.length})`);
    }
    expect(got).toEqual(range(40));
    expect(rig.of('transportFailed')).toEqual([]);
    expect(rig.of('resync')).toEqual([]);
    expect(logger.warnings).toEqual([]);
    expect(logger.errors).toEqual([]);
  }, 60_000);
});
