/**
 * Runs fuzz inputs against the target with a few concurrent workers until a deadline, a count, or a stop condition
 * (the server died). Each worker draws from its own source forked from the seed, and each input from its own fork,
 * so a seed makes the same inputs in the same order per worker; how far each worker gets depends on timing.
 */
import type { Context, Family, Input } from './family';
import { Rand } from './rand';

export interface Tally {
  inputs: number;
  /** Outcome (HTTP status, `ws-open`, `reset`, …) → count. */
  outcomes: Record<string, number>;
  /** The last inputs of this family, newest last: what to send again when it broke something. */
  last: string[];
  /** The first few inputs answered with a 5xx (a handler that threw): findings even when nothing else failed. */
  serverErrors: string[];
  /** Inputs whose own code threw (a fuzzer bug, not a server one): listed so they are not hidden. */
  fuzzerErrors: string[];
}

export interface RunResult {
  tallies: Record<string, Tally>;
  total: number;
  durationMs: number;
  /** Why the run ended: 'time', 'count', or the stop condition's reason. */
  endedBy: string;
  /** Inputs running when the stop condition fired (a crash happened during one of them). */
  inFlightAtStop: string[];
}

export interface RunOptions {
  seed: number;
  families: readonly Family[];
  ctx: Context;
  durationMs: number;
  maxInputs: number;
  workers: number;
  /** Checked before each input; a reason ends the run. */
  stopWhen(): string | null;
}

const LAST_KEPT = 8;
/** Every input bounds its own sockets; this guards against a fuzzer bug leaving one waiting forever. */
const INPUT_GUARD_MS = 20_000;

export async function runFuzz(o: RunOptions): Promise<RunResult> {
  const tallies: Record<string, Tally> = {};
  for (const f of o.families) tallies[f.name] = { inputs: 0, outcomes: {}, last: [], serverErrors: [], fuzzerErrors: [] };
  const weights = o.families.reduce((s, f) => s + f.weight, 0);
  const pickFamily = (r: Rand): Family => {
    let x = r.int(0, weights - 1);
    for (const f of o.families) if ((x -= f.weight) < 0) return f;
    return o.families[0]!;
  };
  const root = new Rand(o.seed);
  const sources = Array.from({ length: o.workers }, () => root.fork());
  const started = Date.now();
  const deadline = started + o.durationMs;
  let total = 0;
  let endedBy = '';
  const running = new Map<number, string>();
  let inFlightAtStop: string[] = [];

  const worker = async (k: number): Promise<void> => {
    const source = sources[k]!;
    for (;;) {
      const reason = o.stopWhen();
      if (reason !== null) {
        if (!endedBy) {
          endedBy = reason;
          inFlightAtStop = [...running.values()];
        }
        return;
      }
      if (Date.now() >= deadline) return void (endedBy ||= 'time');
      if (total >= o.maxInputs) return void (endedBy ||= 'count');
      total++;
      const family = pickFamily(source);
      const t = tallies[family.name]!;
      t.inputs++;
      let input: Input;
      try {
        input = family.make(source.fork(), o.ctx);
      } catch (err) {
        t.outcomes['fuzzer-error'] = (t.outcomes['fuzzer-error'] ?? 0) + 1;
        if (t.fuzzerErrors.length < 5) t.fuzzerErrors.push(`#${total} ${family.name} (making the input): ${err instanceof Error ? err.stack : String(err)}`);
        continue;
      }
      const label = `#${total} ${family.name}: ${input.describe}`;
      t.last.push(label);
      if (t.last.length > LAST_KEPT) t.last.shift();
      running.set(k, label);
      let guard: NodeJS.Timeout | undefined;
      let outcome: string;
      try {
        const timeout = new Promise<string>((resolve) => (guard = setTimeout(() => resolve('fuzzer-stuck'), INPUT_GUARD_MS)));
        outcome = String(await Promise.race([input.run(), timeout]));
      } catch (err) {
        outcome = 'fuzzer-error';
        if (t.fuzzerErrors.length < 5) t.fuzzerErrors.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        clearTimeout(guard);
        running.delete(k);
      }
      t.outcomes[outcome] = (t.outcomes[outcome] ?? 0) + 1;
      if (/^5\d\d$/.test(outcome) && t.serverErrors.length < 5) t.serverErrors.push(`${outcome} ← ${label}`);
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, k) => worker(k)));
  return { tallies, total, durationMs: Date.now() - started, endedBy, inFlightAtStop };
}
