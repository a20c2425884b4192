/**
 * Tabs sharing one connection (in-memory channel and locks, real server in-process) when the shared session is lost:
 * the leader learns what the old session accepted (`welcome.prevAck`, in session numbers) and tells each tab its own
 * number of it, so no tab re-sends what already ran.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import { localPlatform } from '../../../src/client/share/local-platform';
import { shareModeOn } from '../../../src/client/share/share-mode';
import type { LifecycleEvents } from '../../../src/client/lifecycle';
import type { WebSocketConstructor } from '../../../src/transports/environment';
import { cleanup, startHarness, waitUntil } from '../../scenarios/integration/harness';

type Client = RealtimeClient<Record<string, unknown>, { say: string }>;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cleanup();
});

describe('a shared session ended by the server', () => {
  it("each tab's emits the old session ran run once; each tab re-sends none of them", async () => {
    // Acks held back: the emits run on the old session, their acknowledgement is lost with it.
    const h = await startHarness({ ackDelayMs: 60_000 });
    const runs = new Map<string, number>();
    h.rt.on('connection', (s) => {
      s.on('say', (d) => {
        const n = (runs.get(d as string) ?? 0) + 1;
        runs.set(d as string, n);
        if (d === 'b3' && n === 1) s.close(); // close{session_ended}: the next handshake is a new session
      });
    });
    const platform = localPlatform();
    const tabs: Client[] = [];
    const resyncs: LifecycleEvents['resync'][] = [];
    for (let i = 0; i < 2; i++) {
      const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor }, shareModeOn(() => platform));
      clients.push(c);
      tabs.push(c);
      c.lifecycle.on('resync', (e) => void resyncs.push(e));
      await waitUntil(() => c.state === 'open', 5000, `tab ${i} open`);
    }
    const oldSid = h.sessions[0]!.id;
    tabs[0]!.emit('say', 'a1');
    tabs[0]!.emit('say', 'a2');
    await waitUntil(() => runs.get('a2') === 1, 5000, 'a2 to run');
    for (const d of ['b1', 'b2', 'b3']) tabs[1]!.emit('say', d);
    await waitUntil(() => resyncs.length === 2 && tabs.every((t) => t.state === 'open' && t.sessionId !== oldSid), 8000, () => `both tabs to resync (${JSON.stringify(resyncs)})`);
    expect(resyncs.map((r) => r.resent)).toEqual([0, 0]);
    tabs[0]!.emit('say', 'a-after');
    tabs[1]!.emit('say', 'b-after');
    await waitUntil(() => runs.has('a-after') && runs.has('b-after'), 5000, () => `the emits after the resync (${JSON.stringify([...runs])})`);
    expect(Object.fromEntries(runs)).toEqual({ a1: 1, a2: 1, b1: 1, b2: 1, b3: 1, 'a-after': 1, 'b-after': 1 });
  });
});
