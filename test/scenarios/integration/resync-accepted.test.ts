/**
 * A resync never re-runs what the old session ran: our client against our server, each emit's handler runs counted.
 * The emits reach the old session and run there, but their acknowledgement is lost with the connection (the handler
 * of the last one cuts every connection before the ack can leave); then the session cannot be resumed. Where the
 * server remembers the old session it tells the client what it accepted (`welcome.prevAck`), and each emit runs once;
 * where it cannot (a restart without an adapter), they run twice, as the README says.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../../src/server';
import { RealtimeError } from '../../../src/client/errors';
import { cleanup, connectClient, startHarness, TRANSPORTS, waitUntil, whenOpen, type Harness } from './harness';

afterEach(cleanup);

type Cause = 'cut' | 'end';

/**
 * Counts the runs of `say` per payload. The run of `cutOn` ends what the client has: with 'cut' every TCP connection
 * goes and the gates close (the client stays away until `reopen`), with 'end' the app ends the session
 * (`close{session_ended}`).
 */
function countRuns(h: Harness, cutOn: string, cause: Cause): Map<unknown, number> {
  const runs = new Map<unknown, number>();
  h.rt.on('connection', (s: Session) => {
    s.on('say', (d) => {
      runs.set(d, (runs.get(d) ?? 0) + 1);
      if (d !== cutOn || (runs.get(d) ?? 0) > 1) return;
      if (cause === 'end') return s.close();
      h.gates.websocket = h.gates.sse = h.gates.polling = true;
      h.killConnections();
    });
  });
  return runs;
}

const reopen = (h: Harness): void => void (h.gates.websocket = h.gates.sse = h.gates.polling = false);

/** Emits e1..e3 (e3 cuts), waits until all three ran on the old session and the client lost its connection. */
async function emitAndLose(h: Harness, client: Awaited<ReturnType<typeof connectClient>>['client'], runs: Map<unknown, number>): Promise<string> {
  const oldSid = client.sessionId!;
  for (const d of ['e1', 'e2', 'e3']) client.emit('say', d);
  await waitUntil(() => runs.get('e3') === 1 && client.state !== 'open', 5000, () => `e3 to run and the client to lose its connection (state ${client.state})`);
  expect(h.sessions.map((s) => s.id)).toContain(oldSid);
  return oldSid;
}

/** Waits for the resync, then for an emit sent after it: frames run in order, so whatever was re-sent ran before. */
async function settled(rig: Awaited<ReturnType<typeof connectClient>>, runs: Map<unknown, number>): Promise<void> {
  const { client, of } = rig;
  await waitUntil(() => of('resync').length > 0, 8000, () => `a resync event (state ${client.state})`);
  await whenOpen(client);
  client.emit('say', 'after');
  await waitUntil(() => runs.has('after'), 5000, () => `the emit after the resync to run (${JSON.stringify([...runs])})`);
}

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('overrun: each emit the old session ran runs once; resent counts none of them', async () => {
    const h = await startHarness({ replayBufferMaxMessages: 2, ackDelayMs: 60_000 });
    const runs = countRuns(h, 'e3', 'cut');
    const rig = await connectClient(h.base, { transports: [transport] });
    await whenOpen(rig.client, transport);
    const oldSid = await emitAndLose(h, rig.client, runs);
    for (let i = 1; i <= 3; i++) h.rt.session(oldSid)!.emit('n', i); // more than its replay buffer holds
    rig.client.emit('say', 'while away'); // never sent to the old session
    reopen(h);
    await settled(rig, runs);
    expect(rig.of('resync')).toEqual([{ reason: 'overrun', previousSessionId: oldSid, sessionId: rig.client.sessionId, resent: 0 }]);
    expect(Object.fromEntries(runs)).toEqual({ e1: 1, e2: 1, e3: 1, 'while away': 1, after: 1 });
  });

  it('expired within the remembered window: each emit runs once', async () => {
    const h = await startHarness({ sessionGraceMs: 300, ackDelayMs: 60_000 });
    const runs = countRuns(h, 'e3', 'cut');
    const rig = await connectClient(h.base, { transports: [transport] });
    await whenOpen(rig.client, transport);
    const oldSid = await emitAndLose(h, rig.client, runs);
    await waitUntil(() => h.rt.session(oldSid) === undefined, 5000, 'the session to expire');
    reopen(h);
    await settled(rig, runs);
    expect(rig.of('resync')).toEqual([{ reason: 'expired', previousSessionId: oldSid, sessionId: rig.client.sessionId, resent: 0 }]);
    expect(Object.fromEntries(runs)).toEqual({ e1: 1, e2: 1, e3: 1, after: 1 });
  });
});

describe('over websocket', () => {
  it('ended by the server (close{session_ended}): each emit runs once', async () => {
    const h = await startHarness({ ackDelayMs: 60_000 });
    const runs = countRuns(h, 'e3', 'end');
    const rig = await connectClient(h.base, { transports: ['websocket'] });
    await whenOpen(rig.client, 'websocket');
    const oldSid = await emitAndLose(h, rig.client, runs);
    await settled(rig, runs);
    expect(rig.of('resync')).toEqual([{ reason: 'session_ended', previousSessionId: oldSid, sessionId: rig.client.sessionId, resent: 0 }]);
    expect(Object.fromEntries(runs)).toEqual({ e1: 1, e2: 1, e3: 1, after: 1 });
  });

  it('a request the old session ran, its reply lost with the session, fails with server_error and is not run again', async () => {
    const h = await startHarness({ ackDelayMs: 60_000 });
    let asked = 0;
    h.rt.on('connection', (s: Session) => {
      s.on('ask', () => {
        asked++;
        s.close(); // no reply: the session ends with the request answered by nobody
      });
    });
    const rig = await connectClient(h.base, { transports: ['websocket'] });
    await whenOpen(rig.client, 'websocket');
    const reply = rig.client.request('ask', null, { timeout: 60_000 });
    const error = await reply.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RealtimeError);
    expect((error as RealtimeError).code).toBe('server_error');
    await whenOpen(rig.client);
    expect(rig.of('resync')).toMatchObject([{ reason: 'session_ended', resent: 0 }]);
    expect(rig.client.queued.messages).toBe(0);
    expect(asked).toBe(1);
  });

  it('after a restart without an adapter the server cannot tell: emits it had not acknowledged run again (README)', async () => {
    const h1 = await startHarness({ ackDelayMs: 60_000 });
    const runs = countRuns(h1, 'e3', 'cut');
    const rig = await connectClient(h1.base, { transports: ['websocket'] });
    await whenOpen(rig.client, 'websocket');
    await emitAndLose(h1, rig.client, runs);
    await h1.close();
    const h2 = await startHarness({}, h1.port);
    h2.rt.on('connection', (s: Session) => s.on('say', (d) => void runs.set(d, (runs.get(d) ?? 0) + 1)));
    await waitUntil(() => rig.of('resync').length > 0 && rig.client.queued.messages === 0 && runs.get('e3') === 2, 8000, () => `the re-sent emits to run (${JSON.stringify([...runs])})`);
    expect(rig.of('resync')).toMatchObject([{ reason: 'unknown_session', resent: 3 }]);
    expect(Object.fromEntries(runs)).toEqual({ e1: 2, e2: 2, e3: 2 });
  });
});
