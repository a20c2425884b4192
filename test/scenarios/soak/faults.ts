/**
 * The soak's fault kinds and their seeded schedule: every kind once in a seeded order, then seeded picks until the
 * duration is over. Records each fault in a timeline (ms since the start) and each SIGKILL on the handler runs' clock.
 */
import type { FaultProxy } from './fault-proxy';
import type { ServerProcess } from './server-handle';
import type { NodeKill } from './types';

export interface FaultTarget {
  proxy: FaultProxy;
  random: () => number;
  /** Cluster mode: the nodes a kill picks from (sessions kept). Empty: `server` is restarted instead (sessions lost). */
  nodes: ServerProcess[];
  server: ServerProcess;
  maxRestarts: number;
  durationMs: number;
  /** Date.now() of the soak's start. */
  startedAt: number;
}

export interface FaultRun {
  /** How many times each kind ran. */
  faults: Record<string, number>;
  timeline: string[];
  kills: NodeKill[];
  /** Padded ticks a restarted single server had sent before it died (its own count starts again at 0). */
  padBeforeRestarts: { padded: number; longest: number };
}

/** Microseconds of the monotonic clock every process shares: the clock of `UpRun.at`. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface FaultKind {
  name: string;
  /** Its weight in the random schedule. */
  weight: number;
  /** Counts towards `maxRestarts`. */
  restart?: boolean;
  /** Does the fault for about `span` ms. */
  run(span: number): Promise<void>;
}

export async function runFaults(t: FaultTarget): Promise<FaultRun> {
  const { proxy, random, nodes, server } = t;
  const out: FaultRun = { faults: {}, timeline: [], kills: [], padBeforeRestarts: { padded: 0, longest: 0 } };
  const mark = (what: string): void => void out.timeline.push(`${Date.now() - t.startedAt} ${what}`);
  let restarts = 0;
  const hold = async (partial: Parameters<FaultProxy['set']>[0], off: Parameters<FaultProxy['set']>[0], ms: number): Promise<void> => {
    proxy.set(partial);
    await sleep(ms);
    proxy.set(off);
  };
  const kinds: FaultKind[] = [
    { name: 'tcp reset (all connections)', weight: 3, run: async () => void proxy.resetAll() },
    { name: 'WebSocket upgrades refused', weight: 1, run: (span) => hold({ refuseUpgrades: true }, { refuseUpgrades: false }, span) },
    { name: 'WebSocket upgrades hung', weight: 1, run: (span) => hold({ hangUpgrades: true }, { hangUpgrades: false }, span) },
    {
      name: 'SSE buffered (after a reset)',
      weight: 1,
      run: async (span) => {
        proxy.set({ bufferSse: true });
        proxy.resetAll();
        await sleep(span);
        proxy.set({ bufferSse: false });
      },
    },
    { name: 'poll responses delayed', weight: 1, run: (span) => hold({ pollDelayMs: 200 + Math.floor(random() * 800) }, { pollDelayMs: 0 }, span) },
    { name: 'poll responses dropped (50%)', weight: 1, run: (span) => hold({ pollDropRate: 0.5 }, { pollDropRate: 0 }, span) },
    // Longer than other faults: what the server buffers for a slow reader must have time to pile up.
    { name: 'slow readers (32 KB/s each)', weight: 1, run: (span) => hold({ throttleBytesPerSec: 32 * 1024 }, { throttleBytesPerSec: 0 }, 3 * span) },
    {
      name: 'outage (server up, unreachable; sessions kept)',
      weight: 1.2,
      run: async (span) => {
        proxy.set({ down: true });
        proxy.resetAll();
        await sleep(span);
        proxy.set({ down: false });
      },
    },
    nodes.length > 0
      ? {
          name: 'node killed (SIGKILL) and restarted (sessions kept)',
          weight: 0.8,
          restart: true,
          run: async () => {
            restarts++;
            const node = nodes[Math.floor(random() * nodes.length)]!;
            await node.kill();
            out.kills.push({ node: node.name, at: monotonicUs() });
            mark(`${node.name} killed`);
            await sleep(200);
            await node.start();
            mark(`${node.name} up again`);
          },
        }
      : {
          name: 'server process restarted (sessions lost)',
          weight: 0.8,
          restart: true,
          run: async () => {
            restarts++;
            proxy.set({ down: true });
            const before = await server.stats();
            out.padBeforeRestarts.padded += before.padded;
            out.padBeforeRestarts.longest = Math.max(out.padBeforeRestarts.longest, before.longestPad);
            await server.kill();
            out.kills.push({ node: server.name, at: monotonicUs() });
            mark(`${server.name} killed`);
            proxy.resetAll();
            await server.start();
            mark(`${server.name} up again`);
            proxy.set({ down: false });
          },
        },
  ];
  const pick = (): FaultKind => {
    const usable = kinds.filter((k) => !k.restart || restarts < t.maxRestarts);
    let r = random() * usable.reduce((sum, k) => sum + k.weight, 0);
    for (const k of usable) if ((r -= k.weight) < 0) return k;
    return usable[0]!;
  };
  // Every kind once (in seeded order) so each run covers them all, then a seeded random schedule.
  const firstRound = kinds.filter((k) => !k.restart || t.maxRestarts > 0).sort(() => random() - 0.5);
  const end = Date.now() + t.durationMs;
  await sleep(300);
  while (Date.now() < end || firstRound.length > 0) {
    const kind = firstRound.shift() ?? pick();
    out.faults[kind.name] = (out.faults[kind.name] ?? 0) + 1;
    mark(kind.name);
    await kind.run(300 + Math.floor(random() * 1200));
    await sleep(100 + Math.floor(random() * 400));
  }
  proxy.clear();
  return out;
}
