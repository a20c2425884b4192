/**
 * A real `gc()` inside vitest: vitest's workers do not run with `--expose-gc`, but V8 accepts the flag at run time
 * and a fresh context then exposes `gc`. Heap figures measured after it are after a full collection.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as (() => void) | undefined;

/** Collects garbage (several passes: weak callbacks and finalizers need more than one) and returns heapUsed. */
export async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gcFn?.();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

export const hasGc = typeof gcFn === 'function';

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
