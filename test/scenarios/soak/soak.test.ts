/**
 * A bounded run of the fault-injection soak (`npm run soak` runs the long one with 100 clients). Seeded, so a failure
 * can be replayed with the same schedule.
 */
import { describe, expect, it } from 'vitest';
import { browsersUnderTest } from '../../support/browsers';
import { formatReport, runSoak } from './soak';

describe('fault-injection soak', () => {
  it('loses and repeats nothing in either direction through resets, refused/hung upgrades, buffered SSE, poll faults, slow readers, outages and a server restart, with messages up to the size limit', async () => {
    const report = await runSoak({ clients: 12, durationMs: 8000, seed: 20261124, maxRestarts: 1 });
    console.log(formatReport(report));

    // The run really was hostile.
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
    expect(report.serverToClient.delivered).toBeGreaterThan(1000);
    expect(report.clientToServer.accepted).toBeGreaterThan(1000);
    // Large messages (up to the size limit) crossed the faults both ways, and the throttle really held readers back.
    expect(report.large.toServer).toBeGreaterThan(5);
    expect(report.large.toClient).toBeGreaterThan(5); // counted since the last server restart
    expect(report.proxy?.throttlePauses).toBeGreaterThan(0);

    // Server → client: every live session got everything, once, in order.
    expect(report.serverToClient).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // Every session that died with the server process was announced with `resync`.
    expect(report.unexplainedLostSessions).toBe(0);
    if ((report.faults['server process restarted (sessions lost)'] ?? 0) > 0) expect(report.resyncs).toBeGreaterThan(0);

    // Client → server: nothing accepted is lost; repeats only where a resync forced a re-send to the new session.
    expect(report.clientToServer.lost).toBe(0);
    expect(report.clientToServer.outOfOrder).toBe(0);
    expect(report.clientToServer.duplicated).toBeLessThanOrEqual(report.clientToServer.duplicatesAllowedByResync);

    // No request hangs; a failed one fails with a clear code.
    expect(report.requests.unsettled).toBe(0);
    for (const code of Object.keys(report.requests.rejected)) expect(['timeout', 'server_error']).toContain(code);
    expect(report.server.sessionsAtEnd).toBeGreaterThanOrEqual(12);
  }, 90_000);
});

describe.each(browsersUnderTest())('fault-injection soak in %s', (name) => {
  it('the UMD client in a real browser keeps the same guarantees under the same faults', async () => {
    const { browserClients } = await import('./browser-clients');
    const report = await runSoak({ clients: 0, browser: browserClients(4, name), durationMs: 6000, seed: 4242, maxRestarts: 1 });
    console.log(formatReport(report));
    expect(report.serverToClient.delivered).toBeGreaterThan(300);
    expect(report.serverToClient).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(report.unexplainedLostSessions).toBe(0);
    expect(report.clientToServer.lost).toBe(0);
    expect(report.clientToServer.outOfOrder).toBe(0);
    expect(report.clientToServer.duplicated).toBeLessThanOrEqual(report.clientToServer.duplicatesAllowedByResync);
    expect(report.requests.unsettled).toBe(0);
  }, 90_000);
});

describe('fault-injection soak, cluster mode', () => {
  it('three nodes on Redis behind a round-robin balancer, nodes SIGKILLed among the faults: sessions kept, nothing lost, repeats only flagged', async () => {
    const report = await runSoak({ clients: 9, durationMs: 6000, seed: 20261130, maxRestarts: 2, nodes: 3 });
    console.log(formatReport(report));
    expect(report.faults['node killed (SIGKILL) and restarted (sessions kept)']).toBeGreaterThanOrEqual(1);
    expect(report.serverToClient.delivered).toBeGreaterThan(1000);
    // Server → client: the publisher's counter reached every session once, in order, to its last value.
    expect(report.serverToClient).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // Node kills keep sessions: nothing to resync.
    expect(report.resyncs).toBe(0);
    expect(report.unexplainedLostSessions).toBe(0);
    // Client → server: nothing lost (what a killed node left unfinished runs on the next holder), in order, and a
    // handler runs twice only in a run flagged `redelivered`.
    expect(report.clientToServer.lost).toBe(0);
    expect(report.clientToServer.duplicated).toBe(0);
    expect(report.clientToServer.outOfOrder).toBe(0);
    expect(report.requests.unsettled).toBe(0);
  }, 120_000);
});
