/**
 * A server with 1,000 sessions whose clients all go away frees every one of them after the grace period: the
 * session count returns to 0, no timer keeps the process busy, and the heap returns near its start (forced gc).
 * Cheap clients: 1,000 raw WebSockets (raw handshake polls would do too, but a polling session only detaches
 * 2 × heartbeat after its last poll, which makes the timing slow), each session also
 * holding a few unacknowledged frames in its replay buffer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { closeAll, startServer, waitFor } from '../../server/helpers';
import { mib, settledHeap } from './gc';

afterEach(closeAll);

async function inBatches(n: number, size: number, each: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += size) await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, k) => each(i + k)));
}

describe('1,000 abandoned sessions', () => {
  it('are all freed after the grace period; the heap returns near its start', { timeout: 60_000 }, async () => {
    const s = await startServer({ heartbeatMs: 60_000, sessionGraceMs: 300, maxSessionsPerClient: Infinity });
    let ended = 0;
    s.rt.on('connection', (session) => {
      for (let i = 0; i < 5; i++) session.emit('hello', { i, pad: 'x'.repeat(200) });
      session.on('disconnect', () => void ended++);
    });
    // Warm-up round, so the baseline includes loaded modules and JIT-compiled paths.
    const warm = new WebSocket(`${s.base.replace('http', 'ws')}/ws?v=1`);
    await new Promise((r) => warm.once('message', r));
    warm.terminate();
    await waitFor(() => s.rt.sessions === 0, 5000, 'the warm-up session to expire');
    ended = 0;
    const heapStart = await settledHeap();

    const sockets: WebSocket[] = [];
    await inBatches(1000, 100, async () => {
      const ws = new WebSocket(`${s.base.replace('http', 'ws')}/ws?v=1`);
      sockets.push(ws);
      await new Promise((r) => ws.once('message', r)); // the welcome
    });
    expect(s.rt.sessions).toBe(1000);
    const heapPeak = await settledHeap();

    for (const ws of sockets) ws.terminate();
    await waitFor(() => s.rt.sessions === 0, 10_000, `sessions to expire (${s.rt.sessions} left)`);
    expect(ended).toBe(1000);
    sockets.length = 0;
    const heapEnd = await settledHeap();

    console.log(`[server-sessions] heap (forced gc): start ${mib(heapStart)}, 1,000 sessions ${mib(heapPeak)}, all expired ${mib(heapEnd)}`);
    expect(heapPeak - heapStart).toBeGreaterThan(1024 * 1024); // the sessions were really held
    // Measured: start 9.6 MiB, 1,000 sessions 22.3 MiB (server and the 1,000 client sockets share this process),
    // expired 11.1 MiB: the rest is the bounded tombstone map of expired ids (answers `expired`) and warm pools.
    // Headroom: 3 MiB; 1,000 leaked sessions with their replay
    // buffers would be well over that (see heapPeak).
    expect(heapEnd - heapStart).toBeLessThan(3 * 1024 * 1024);
  });
});
