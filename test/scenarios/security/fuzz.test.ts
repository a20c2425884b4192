/**
 * Issue 23, goal 7: a seeded, bounded fuzz run against the reference server in a child process, with well-behaved
 * clients streaming alongside. The verdict allows nothing: the process never exits, its memory stays under the
 * ceilings below, its event loop never stalls, and the good clients see no failure at all.
 *
 * A new seed each run, printed with how to run it again: FUZZ_SEED=<seed> (FUZZ_MS=<ms> for a longer or shorter run,
 * FUZZ_FAMILIES=<name,…> for some families only).
 * The fuzz comes from 127.77.0.0/16 and the good clients from 127.0.0.1, so the server's per-client limits tell
 * them apart as they would a stranger from a user; the server keeps its default options.
 */
import { randomInt } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import type { Context } from './fuzz/family';
import { handshake } from './fuzz/family-handshake';
import { requestLine } from './fuzz/family-request-line';
import { sendBody } from './fuzz/family-send-body';
import { sequences } from './fuzz/family-sequences';
import { unencodable } from './fuzz/family-unencodable';
import { wsFrames } from './fuzz/family-ws-frames';
import { HEAP_LIMIT_MB, startFuzzServer, type FuzzServer } from './fuzz/fuzz-process';
import { startGoodClients, type GoodClients } from './fuzz/good-clients';
import { runFuzz, type RunResult } from './fuzz/runner';
import type { Welcome } from './fuzz/wire';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 32);
const FUZZ_MS = Number(process.env.FUZZ_MS ?? 35_000);
const MAX_INPUTS = 50_000;
const WORKERS = 16;
/** Live heap (heapUsed right after a full GC) the server may reach: half its V8 old-space limit. */
const LIVE_HEAP_CEILING = (HEAP_LIMIT_MB / 2) * 2 ** 20;
/** Resident set ceiling: ~85 MB at rest under tsx, so this leaves the server ~300 MB for sockets and buffers. */
const RSS_CEILING = 384 * 2 ** 20;
/** Longest the server's 250 ms memory timer may be late: beyond it, clients wait on a blocked event loop. */
const STALL_CEILING_MS = 3000;

const MB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
const ALL_FAMILIES = [requestLine, handshake, sendBody, wsFrames, sequences, unencodable];
/** FUZZ_FAMILIES=name,name runs only those (to find which family broke something); default all. */
const FAMILIES = process.env.FUZZ_FAMILIES ? ALL_FAMILIES.filter((f) => process.env.FUZZ_FAMILIES!.split(',').includes(f.name)) : ALL_FAMILIES;

let server: FuzzServer | undefined;
let clients: GoodClients | undefined;
afterAll(async () => {
  clients?.close();
  await server?.stop();
});

const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (cond()) return true;
  return cond();
};

function report(run: RunResult | undefined, s: FuzzServer, c: GoodClients, finalTick: number | null): string {
  const perFamily = run ? Object.entries(run.tallies).map(([name, t]) => `${name} ${t.inputs}`).join(', ') : 'none';
  const m = s.memory;
  const good = c.all
    .map((g) => `${g.name}: ${g.failureCount} failures, ${g.emitted} emits, ${g.requests.answered}/${g.requests.sent} echoes, ${g.ticks.count} ticks (${g.ticks.first}..${g.ticks.last}), ${g.reconnects} reconnects`)
    .join('; ');
  return (
    `[fuzz] seed ${SEED}: ${run?.total ?? 0} inputs in ${((run?.durationMs ?? 0) / 1000).toFixed(1)} s (${perFamily}); ended by ${run?.endedBy ?? 'no run'}; ` +
    `server ${s.exit ? `EXITED (${s.exit.code ?? s.exit.signal})` : 'alive'}, live heap peak ${MB(m.peakLiveHeap)} (from ${MB(m.baselineLiveHeap)}; ceiling ${MB(LIVE_HEAP_CEILING)}), ` +
    `heapUsed peak ${MB(m.peakHeap)}, rss peak ${MB(m.peakRss)} (ceiling ${MB(RSS_CEILING)}), longest stall ${m.maxGapMs} ms, final tick ${finalTick}; ${good}`
  );
}

function details(run: RunResult | undefined, s: FuzzServer, c: GoodClients): string {
  const only = process.env.FUZZ_FAMILIES ? ` FUZZ_FAMILIES=${process.env.FUZZ_FAMILIES}` : '';
  const lines = [`[fuzz] reproduce: FUZZ_SEED=${SEED} FUZZ_MS=${FUZZ_MS}${only} npx vitest run test/scenarios/security/fuzz.test.ts`];
  if (run?.inFlightAtStop.length) lines.push('inputs running when the server stopped:', ...run.inFlightAtStop.map((l) => `  ${l}`));
  for (const [name, t] of Object.entries(run?.tallies ?? {})) {
    lines.push(`${name}: outcomes ${JSON.stringify(t.outcomes)}`);
    for (const l of t.serverErrors) lines.push(`  5xx: ${l}`);
    for (const l of t.fuzzerErrors) lines.push(`  fuzzer error: ${l}`);
    lines.push('  last inputs:', ...t.last.map((l) => `    ${l}`));
  }
  for (const g of c.all) for (const f of g.failures) lines.push(`${g.name}: ${f}`);
  if (s.exit) lines.push(`server stderr (tail):\n${s.stderrTail()}`);
  return lines.join('\n');
}

it(`fuzz (seed ${SEED}): the server survives, stays under its memory ceiling, and good clients see no failure`, async () => {
  console.log(`[fuzz] seed ${SEED}, ${FUZZ_MS} ms (reproduce: FUZZ_SEED=${SEED} npx vitest run test/scenarios/security/fuzz.test.ts)`);
  const s = (server = await startFuzzServer());
  const c = (clients = startGoodClients(`http://127.0.0.1:${s.port}/realtime`));
  const opened = await waitFor(() => c.all.every((g) => g.client.state === 'open'), 10_000);
  expect(opened, `good clients open: ${c.all.map((g) => `${g.name} ${g.client.state}`).join(', ')}`).toBe(true);
  // Warm: ticks flowing to everyone and one GC'd sample taken, so the baseline is the server at work, not at rest.
  await waitFor(() => c.all.every((g) => g.ticks.count > 5) && s.liveHeap() > 0, 3000);
  s.resetPeaks();

  const fuzzSessions: Welcome[] = [];
  const ctx: Context = {
    target: { port: s.port, path: '/realtime' },
    goodSids: () => c.sessionIds(),
    fuzzSessions,
    remember(w) {
      fuzzSessions.push(w);
      if (fuzzSessions.length > 50) fuzzSessions.shift();
    },
  };
  let run: RunResult | undefined;
  let finalTick: number | null = null;
  try {
    run = await runFuzz({
      seed: SEED,
      families: FAMILIES,
      ctx,
      durationMs: FUZZ_MS,
      maxInputs: MAX_INPUTS,
      workers: WORKERS,
      stopWhen: () => (s.exit ? 'server exited' : s.memory.peakLiveHeap > LIVE_HEAP_CEILING ? 'live heap over its ceiling' : null),
    });
    // Quiet: no more emits or ticks; every client must then hold every tick and have had every emit and echo done.
    c.stopActivity();
    if (!s.exit) {
      finalTick = await s.quiet().catch(() => null);
      const settled = await waitFor(
        () => c.all.every((g) => g.ticks.last === finalTick && g.client.queued.messages === 0 && g.requests.inFlight === 0),
        15_000,
      );
      if (!settled)
        for (const g of c.all)
          if (g.ticks.last !== finalTick || g.client.queued.messages > 0 || g.requests.inFlight > 0)
            g.failures.push(`not settled 15 s after the fuzz: last tick ${g.ticks.last} of ${finalTick}, ${g.client.queued.messages} queued, ${g.requests.inFlight} echoes unanswered, state ${g.client.state}`), g.failureCount++;
      const stats = await s.stats().catch(() => null);
      for (const g of c.all) {
        const ups = stats && g.client.sessionId ? stats.ups[g.client.sessionId] : undefined;
        if (!ups || ups.count !== g.emitted || ups.problems.length > 0)
          g.failures.push(`server ran ${ups?.count ?? 'no'} of its ${g.emitted} emits${ups?.problems.length ? `: ${ups.problems.join(', ')}` : ''}`), g.failureCount++;
      }
      if (stats) console.log(`[fuzz] server: ${stats.sessions} sessions held, ${stats.created} created; log ${JSON.stringify(stats.log)}`);
    }
  } finally {
    console.log(report(run, s, c, finalTick));
  }
  const failed = s.exit !== null || s.memory.peakLiveHeap > LIVE_HEAP_CEILING || s.memory.peakRss > RSS_CEILING || s.memory.maxGapMs > STALL_CEILING_MS || c.all.some((g) => g.failureCount > 0) || Object.values(run?.tallies ?? {}).some((t) => t.fuzzerErrors.length > 0);
  if (failed) console.log(details(run, s, c));
  else for (const [name, t] of Object.entries(run?.tallies ?? {})) console.log(`[fuzz] ${name}: ${JSON.stringify(t.outcomes)}${t.serverErrors.length ? `; 5xx: ${t.serverErrors.join(' / ')}` : ''}`);

  expect(s.exit, 'the server process exited').toBeNull();
  expect(s.memory.peakLiveHeap, 'peak live heap (bytes)').toBeLessThanOrEqual(LIVE_HEAP_CEILING);
  expect(s.memory.peakRss, 'peak rss (bytes)').toBeLessThanOrEqual(RSS_CEILING);
  expect(s.memory.maxGapMs, 'longest stall of the server event loop (ms)').toBeLessThanOrEqual(STALL_CEILING_MS);
  // The fuzzer's own bugs would hide inputs that never ran: they fail the test too.
  expect(Object.values(run?.tallies ?? {}).flatMap((t) => t.fuzzerErrors), 'inputs the fuzzer could not make or run').toEqual([]);
  expect(Object.fromEntries(c.all.map((g) => [g.name, g.failures])), 'good-client failures').toEqual(Object.fromEntries(c.all.map((g) => [g.name, []])));
}, FUZZ_MS + 60_000);
