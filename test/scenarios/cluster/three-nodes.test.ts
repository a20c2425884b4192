/**
 * Three nodes on one Redis behind a round-robin balancer (no sticky sessions), a fourth process publishing to a room
 * every 20 ms, and one client per transport streaming both ways. The node holding the clients' sessions is killed
 * with SIGKILL mid-stream, or all three are restarted in turn: every client carries on with the same session on
 * another node; server messages arrive exactly once, client emits none dropped, each handled once but for runs
 * flagged `redelivered` (a frame a killed node recorded and had not finished runs again on the next holder).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportName } from '../../../src/protocol/frames';
import { startRedisServer, stopAllRedisServers } from '../redis/redis-server';
import { checkEmits, received, sleep, startTraffic, until, watch, type Watched } from './clients';
import { killAllNodes, startNode, type Node, type Up } from './nodes';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../../demo/round-robin-proxy.mjs';

let proxy: RoundRobinProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await killAllNodes();
  await stopAllRedisServers();
});

/** Each run of consecutive values is 1..k, once each, in order. */
const runsOk = (c: Watched): boolean => [...c.ticks.values()].every((list) => list.every((n, i) => n === i + 1));

/** Prints what each client saw and checks exactly-once both ways with no resync. */
function report(what: string, clients: Watched[], ups: Up[]): void {
  const stats = proxy!.stats();
  console.log(`[three nodes, ${what}] balancer spread: ${JSON.stringify(stats.requests)} requests, ${JSON.stringify(stats.upgrades)} upgrades`);
  for (const c of clients) {
    const counts = checkEmits(c, ups.filter((u) => u.c === c.transport));
    console.log(
      `[three nodes, ${what}] ${c.transport}: sessions ${c.sessions.size}, resyncs ${c.resyncs}, ${received(c)} ticks in ${c.ticks.size} runs, ` +
        `${c.pubs.length} published (${c.pubs[0]}..${c.pubs[c.pubs.length - 1]}), ${c.accepted} ups, 0 dropped, ` +
        `${counts.redelivered} redelivered (${counts.repeats} repeating a run)`,
    );
    expect(c.sessions.size).toBe(1);
    expect(c.resyncs).toBe(0);
    expect(runsOk(c)).toBe(true);
    // Requests landing on other nodes are forwarded to the holder: a session moves only when its node goes (each of
    // those moves can take a reconnect or two).
    expect(c.ticks.size).toBeLessThanOrEqual(6);
    // The publisher's counter: consecutive from the first one heard, none missing, none twice.
    expect(c.pubs).toEqual(c.pubs.map((_, i) => c.pubs[0]! + i));
  }
}

describe('three nodes, round-robin, one Redis', () => {
  /**
   * Three nodes behind the balancer, a publisher beside them, one client per transport streaming both ways while
   * `trouble(nodes, restart)` runs; then waits for both directions to settle and reports.
   */
  async function streamThrough(what: string, trouble: (nodes: Node[], restart: (i: number) => Promise<void>) => Promise<void>): Promise<void> {
    const redis = await startRedisServer();
    const ups: Up[] = [];
    const onUp = (u: Up): void => void ups.push(u);
    const nodes: Node[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await startNode(redis.url, onUp));
    await startNode(redis.url, onUp, 0, { PUBLISH_MS: '20' }); // the publisher: not behind the balancer
    proxy = await startRoundRobinProxy(() => nodes.map((n) => n.port));
    const clients = await Promise.all((['websocket', 'sse', 'polling'] as TransportName[]).map((t) => watch(`${proxy!.url}/realtime`, t)));
    await until(() => clients.every((c) => c.client.state === 'open' && c.pubs.length > 10), 15_000, 'clients open and hearing the publisher');
    const stopTraffic = startTraffic(clients);
    try {
      await trouble(nodes, async (i) => void (nodes[i] = await startNode(redis.url, onUp, nodes[i]!.port)));
      const before = clients.map(received);
      await until(() => clients.every((c, i) => c.client.state === 'open' && received(c) > before[i]! + 20), 20_000, `traffic after the ${what}`);
    } finally {
      stopTraffic();
    }
    await until(() => clients.every((c) => c.client.queued.messages === 0), 15_000, 'every emit acknowledged');
    await sleep(300);
    report(what, clients, ups);
    for (const c of clients) c.client.close();
  }

  it('no sticky sessions; nodes killed mid-stream: same sessions, no resync, server messages exactly once, no emit dropped, repeats flagged', async () => {
    await streamThrough('node kills', async (nodes) => {
      await sleep(1500);
      await nodes[0]!.kill(); // some client's connection is there: round-robin spread them
      await sleep(1500);
      await nodes[1]!.kill();
    });
  }, 120_000);

  it('a rolling restart of all three nodes (close, exit, start again), one after another: no resync, nothing lost', async () => {
    await streamThrough('rolling restart', async (nodes, restart) => {
      for (let i = 0; i < 3; i++) {
        await sleep(700);
        await nodes[i]!.stop();
        await restart(i);
      }
    });
  }, 120_000);
});
