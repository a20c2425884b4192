/**
 * Exactly-once across transport switches: while both counters flow, the test forces the client from WebSocket to
 * SSE (upgrades refused + connections cut), then to long-polling (SSE answered 503 + cut), then lets WebSocket work
 * again so the client's upgrade probe moves the live session back. Nothing may be lost, repeated or reordered.
 */
import { afterEach, expect, it } from 'vitest';
import { cleanup, connectClient, range, startHarness, waitUntil, whenOpen } from './harness';
import { sequenceProblems, stopStreams, streamRig } from './streams';

afterEach(async () => {
  stopStreams();
  await cleanup();
});

const N = 600;
const M = 300;

it('delivers both counters exactly once while switching websocket → sse → polling → websocket', async () => {
  const h = await startHarness({ heartbeatMs: 500 });
  const rig = streamRig(h, { n: N, m: M, serverEveryMs: 8, clientEveryMs: 12 });
  const { client, of } = await connectClient(h.base, { upgradeProbeMs: 200, retriesPerTransport: 1 });
  await whenOpen(client, 'websocket');
  const sid = client.sessionId;
  const s = rig.start(client);
  const midStream = (step: string): void => expect(s.clientGot.length, `${step} must happen mid-stream`).toBeLessThan(N);

  // A plain drop on WebSocket: it reopens on WebSocket.
  await s.progress(20);
  midStream('drop on websocket');
  h.killConnections();
  await s.progress(20);
  expect(client.transport).toBe('websocket');

  // WebSocket refused: after its retry the client falls back to SSE.
  h.gates.websocket = true;
  midStream('websocket → sse');
  h.killConnections();
  await whenOpen(client, 'sse');
  await s.progress(20);

  // A plain drop on SSE: it reopens on SSE (upgrade probes keep failing meanwhile).
  midStream('drop on sse');
  await waitUntil(() => h.inFlight().requests > 0, 2000, 'the event stream');
  h.killConnections();
  await s.progress(20);
  expect(client.transport).toBe('sse');

  // SSE refused too: long-polling.
  h.gates.sse = true;
  midStream('sse → polling');
  h.killConnections();
  await whenOpen(client, 'polling');
  await s.progress(20);

  // WebSocket works again: the upgrade probe moves the session back without a reconnect.
  h.gates.websocket = false;
  midStream('polling → websocket');
  await whenOpen(client, 'websocket', 8000);
  await s.done();
  await expect(client.request('nothing', null).catch((e: { code?: string }) => e.code)).resolves.toBe('server_error');

  expect(sequenceProblems(s.clientGot, N)).toEqual([]);
  expect(s.clientGot).toEqual(range(N));
  expect(sequenceProblems(s.serverGot, M)).toEqual([]);
  expect(s.serverGot).toEqual(range(M));
  expect(of('transport').map((t) => [t.transport, t.reason])).toEqual([
    ['websocket', 'connect'],
    ['sse', 'fallback'],
    ['polling', 'fallback'],
    ['websocket', 'upgrade'],
  ]);
  expect(of('resync')).toEqual([]);
  expect(client.sessionId).toBe(sid);
  expect(h.sessions).toHaveLength(1);
  expect(h.rt.session(sid!)?.transport).toBe('websocket');
});

it('a WebSocket reached by an upgrade probe that drops is reopened as WebSocket, not as the fallback it left', async () => {
  const h = await startHarness({ heartbeatMs: 500 });
  h.gates.websocket = true;
  const { client, of } = await connectClient(h.base, { upgradeProbeMs: 100, retriesPerTransport: 0 });
  await whenOpen(client, 'sse');
  h.gates.websocket = false;
  await whenOpen(client, 'websocket', 8000);
  expect(of('transport').map((t) => [t.transport, t.reason])).toEqual([
    ['sse', 'fallback'],
    ['websocket', 'upgrade'],
  ]);
  const sid = client.sessionId;

  const before = of('open').length;
  h.killConnections(); // "It worked a moment ago: reopen the same transport" (src/client.ts onFailure)
  await waitUntil(() => of('open').length > before, 5000, 'the client to reopen');
  expect(of('open').at(-1)).toMatchObject({ transport: 'websocket', sessionId: sid, resumed: true });
  expect(of('transport').map((t) => t.transport)).toEqual(['sse', 'websocket']);
});
