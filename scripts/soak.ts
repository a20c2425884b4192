// `npm run soak`: the long fault-injection soak. Options: --clients N (100), --seconds S (60), --restarts R (2),
// --nodes N (cluster mode: N nodes on a real redis-server behind a round-robin balancer; restarts are node SIGKILLs),
// --seed X or --seed X,Y,Z (replay those schedules), --seeds K (K random seeds in a row). One report per seed, then a
// table of all of them; exits 1 if any failed (test/scenarios/soak/verdict.ts says what fails).
import { formatReport, formatSummary, runSoak, soakProblems, type SoakReport } from '../test/scenarios/soak/soak';

const value = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const arg = (name: string, fallback: number): number => {
  const v = value(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`soak: --${name} wants a whole number, got ${v}`);
  return n;
};

/** The seeds to run: those given with --seed, else --seeds K random ones (1 by default). */
function seeds(): number[] {
  const given = value('seed');
  if (given !== undefined) {
    const list = given.split(',').map(Number);
    if (list.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`soak: --seed wants whole numbers separated by commas, got ${given}`);
    return list;
  }
  return Array.from({ length: Math.max(1, arg('seeds', 1)) }, () => Math.floor(Math.random() * 1e9));
}

const options = {
  clients: arg('clients', 100),
  durationMs: arg('seconds', 60) * 1000,
  maxRestarts: arg('restarts', 2),
  nodes: arg('nodes', 0),
};
const list = seeds();
console.log(`soak: ${options.clients} clients, ${options.durationMs / 1000} s of faults${options.nodes > 0 ? `, ${options.nodes} nodes on Redis` : ''}; seeds ${list.join(',')}`);
const reports: SoakReport[] = [];
for (const seed of list) {
  console.log(`\n=== seed ${seed} ===`);
  const report = await runSoak({ ...options, seed, log: (line) => console.log(line) });
  console.log(formatReport(report));
  reports.push(report);
}
console.log(`\n${formatSummary(reports)}`);
const failed = reports.filter((r) => soakProblems(r, r.mode).length > 0);
console.log(failed.length === 0 ? `soak: PASS (${reports.length} seeds)` : `soak: FAIL (${failed.length} of ${reports.length} seeds: ${failed.map((r) => r.seed).join(',')})`);
process.exit(failed.length === 0 ? 0 : 1);
