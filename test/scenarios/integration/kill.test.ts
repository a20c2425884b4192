/**
 * Exactly-once across dropped connections: every TCP connection to the server is destroyed ten times while a
 * server counter and a client counter are in flight. Both must arrive complete, in order, without duplicates, on
 * the one session the client started with (no resync).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, connectClient, range, startHarness, TRANSPORTS, waitUntil, whenOpen } from './harness';
import { sequenceProblems, stopStreams, streamRig } from './streams';

afterEach(async () => {
  stopStreams();
  await cleanup();
});

const N = 500;
const M = 300;
const KILLS = 10;

describe.each(TRANSPORTS)('over %s', (transport) => {
  it(`delivers ${N} server and ${M} client messages exactly once, and answers ${KILLS} requests, through ${KILLS} connection kills`, async () => {
    const h = await startHarness({ heartbeatMs: 500 });
    // A 5 s server stream, so the tenth kill still lands mid-stream on a loaded machine (at 4 ms it sometimes did not).
    const rig = streamRig(h, { n: N, m: M, serverEveryMs: 10, clientEveryMs: 6 });
    h.rt.on('connection', (session) => session.on('echo', (d, reply) => reply(d)));
    const { client, of } = await connectClient(h.base, { transports: [transport] });
    await whenOpen(client, transport);
    const sid = client.sessionId;
    const s = rig.start(client);

    let killed = 0;
    const replies: Promise<unknown>[] = [];
    for (let k = 0; k < KILLS; k++) {
      replies.push(client.request('echo', { k }, { timeout: 10_000 })); // in flight across the next kill
      await s.progress(10); // open again and some ticks flowed since the last kill
      await waitUntil(() => h.inFlight().requests + h.inFlight().upgraded > 0, 2000, 'a request or socket of the client in flight');
      expect(s.clientGot.length, `kill ${k + 1} must land mid-stream`).toBeLessThan(N);
      if (h.killConnections() > 0) killed++;
    }
    await s.done();
    // Each request was answered once, with its own reply, though its frame or its reply may have been cut off.
    expect(await Promise.all(replies)).toEqual(range(KILLS).map((k) => ({ k: k - 1 })));
    // One more round trip: a late duplicate would arrive before its reply.
    await expect(client.request('up-barrier', null).catch((e: { code?: string }) => e.code)).resolves.toBe('server_error');

    expect(sequenceProblems(s.clientGot, N)).toEqual([]);
    expect(s.clientGot).toEqual(range(N));
    expect(sequenceProblems(s.serverGot, M)).toEqual([]);
    expect(s.serverGot).toEqual(range(M));
    expect(killed).toBe(KILLS);
    // Every kill drops a WebSocket or an event stream. Polling can be between two polls (its keep-alive socket idle,
    // which fetch replaces silently), so there some kills cost nothing; most still cut a held poll or a POST.
    const drops = of('transportFailed').filter((f) => f.opened).length;
    expect(drops).toBeGreaterThanOrEqual(transport === 'polling' ? KILLS / 2 : KILLS);
    expect(of('resync')).toEqual([]);
    expect(client.sessionId).toBe(sid);
    expect(h.sessions).toHaveLength(1);
    expect(of('open').slice(1).every((o) => o.resumed && o.sessionId === sid)).toBe(true);
    expect(new Set(of('transport').map((t) => t.transport))).toEqual(new Set([transport]));
  });
});
