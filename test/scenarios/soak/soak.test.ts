/**
 * Bounded runs of the fault-injection soak (`npm run soak` runs long ones, many seeds). Each run draws a new seed
 * (printed before it starts) unless SOAK_SEED is set, so a failing run can be replayed with the same schedule.
 */
import { describe, expect, it } from 'vitest';
import { browsersUnderTest } from '../../support/browsers';
import { formatReport, runSoak, soakProblems } from './soak';

/** SOAK_SEED, or a new one; printed first, so even a run that times out says how to replay it. */
function seedFor(test: string): number {
  const seed = process.env.SOAK_SEED !== undefined ? Number(process.env.SOAK_SEED) : Date.now() % 1e9;
  console.log(`soak "${test}": seed ${seed} (replay: SOAK_SEED=${seed} npx vitest run test/scenarios/soak/soak.test.ts -t "${test}")`);
  return seed;
}

describe('fault-injection soak', () => {
  it('loses and repeats nothing in either direction through resets, refused/hung upgrades, buffered SSE, poll faults, slow readers, outages and a server restart, with messages up to the size limit', async () => {
    const report = await runSoak({ clients: 12, durationMs: 8000, seed: seedFor('loses and repeats'), maxRestarts: 1 });
    console.log(formatReport(report));

    // The run really was hostile.
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
    expect(report.kills).toBe(1);
    expect(report.serverToClient.delivered).toBeGreaterThan(1000);
    expect(report.clientToServer.accepted).toBeGreaterThan(1000);
    // Large messages (up to the size limit) crossed the faults both ways, and the throttle really held readers back.
    expect(report.large.toServer).toBeGreaterThan(5);
    expect(report.large.toClient).toBeGreaterThan(5);
    expect(report.proxy?.throttlePauses).toBeGreaterThan(0);
    // The restart lost sessions, and each was announced.
    expect(report.resyncs).toBeGreaterThan(0);

    // Nothing lost, repeated or out of order either way; no unexplained lost session; every request settled.
    expect(soakProblems(report, 'single')).toEqual([]);
    expect(report.server.sessionsAtEnd).toBeGreaterThanOrEqual(12);
  }, 90_000);
});

describe.each(browsersUnderTest())('fault-injection soak in %s', (name) => {
  it('the UMD client in a real browser keeps the same guarantees under the same faults', async () => {
    const { browserClients } = await import('./browser-clients');
    const report = await runSoak({ clients: 0, browser: browserClients(4, name), durationMs: 6000, seed: seedFor(`soak in ${name}`), maxRestarts: 1 });
    console.log(formatReport(report));
    expect(report.serverToClient.delivered).toBeGreaterThan(300);
    expect(soakProblems(report, 'single')).toEqual([]);
  }, 90_000);
});

describe('fault-injection soak, cluster mode', () => {
  it('three nodes on Redis behind a round-robin balancer, nodes SIGKILLed among the faults: sessions kept, nothing lost, repeats only flagged', async () => {
    const report = await runSoak({ clients: 9, durationMs: 6000, seed: seedFor('cluster mode'), maxRestarts: 2, nodes: 3 });
    console.log(formatReport(report));
    // The run really was hostile: nodes died under live sessions.
    expect(report.faults['node killed (SIGKILL) and restarted (sessions kept)']).toBeGreaterThanOrEqual(1);
    expect(report.kills).toBeGreaterThanOrEqual(1);
    expect(report.serverToClient.delivered).toBeGreaterThan(1000);
    expect(report.clientToServer.accepted).toBeGreaterThan(1000);
    // No resync (kills keep sessions), nothing lost, repeated (unless a kill explains it) or out of order.
    expect(soakProblems(report, 'cluster')).toEqual([]);
  }, 120_000);
});
