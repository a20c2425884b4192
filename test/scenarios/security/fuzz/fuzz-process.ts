/**
 * Starts fuzz-server.ts as a child process with a heap ceiling and watches it: its memory samples (peaks), the
 * longest gap between samples (a blocked event loop), and its exit, should it die. Stopped by pid (SIGTERM, then
 * SIGKILL) on every exit path: the test's `finally`, and this process's exit should the worker die first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromServer, ServerStats, ToServer } from './fuzz-server';

/** V8's old-space limit for the child (MB): past it the process dies of OOM, which the exit watch reports. */
export const HEAP_LIMIT_MB = 256;

export interface Memory {
  /** Peak resident set size (bytes), sampled every 250 ms. */
  peakRss: number;
  /** Peak heapUsed (bytes) as sampled, garbage included. */
  peakHeap: number;
  /** Peak heapUsed right after a full GC (bytes): live memory, sampled every second. */
  peakLiveHeap: number;
  /** heapUsed after GC when the fuzz started (bytes). */
  baselineLiveHeap: number;
  samples: number;
  /** Longest time between two samples (ms): the child's event loop was blocked at least this long. */
  maxGapMs: number;
}

export interface FuzzServer {
  port: number;
  pid: number;
  readonly memory: Memory;
  /** heapUsed after the latest full GC (0 until the first one, a second after start). */
  liveHeap(): number;
  /** How the child ended, if it did (null while it runs). */
  readonly exit: { code: number | null; signal: string | null; at: number } | null;
  /** The last few KB the child wrote to stderr (its crash stack, say). */
  stderrTail(): string;
  stats(): Promise<ServerStats>;
  /** Stops the ticker; resolves with the last tick number. */
  quiet(): Promise<number>;
  /** Starts counting peaks afresh from now (after the warm-up), keeping the current live heap as the baseline. */
  resetPeaks(): void;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** `heapMb`: another old-space limit, for reproductions that look for where memory levels off (the test keeps the default). */
export async function startFuzzServer(heapMb = HEAP_LIMIT_MB): Promise<FuzzServer> {
  const child = fork(fileURLToPath(new URL('./fuzz-server.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${heapMb}`, '--expose-gc'],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  let exit: FuzzServer['exit'] = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: Date.now() };
      running.delete(child);
      resolve();
    }),
  );
  const memory: Memory = { peakRss: 0, peakHeap: 0, peakLiveHeap: 0, baselineLiveHeap: 0, samples: 0, maxGapMs: 0 };
  let lastSample = 0;
  let lastLive = 0;
  const waiting: { stats: ((s: ServerStats) => void)[]; quiet: ((tick: number) => void)[] } = { stats: [], quiet: [] };
  child.on('message', (m: FromServer) => {
    if (m.t === 'mem') {
      memory.samples++;
      memory.peakRss = Math.max(memory.peakRss, m.rss);
      memory.peakHeap = Math.max(memory.peakHeap, m.heap);
      if (lastSample > 0) memory.maxGapMs = Math.max(memory.maxGapMs, m.at - lastSample);
      lastSample = m.at;
    } else if (m.t === 'gcMem') {
      lastLive = m.heap;
      memory.peakLiveHeap = Math.max(memory.peakLiveHeap, m.heap);
    } else if (m.t === 'stats') waiting.stats.shift()?.(m.stats);
    else if (m.t === 'quiet') waiting.quiet.shift()?.(m.tick);
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fuzz-server: not ready within 20 s\n${stderr}`)), 20_000);
    child.on('message', (m: FromServer) => {
      if (m.t !== 'ready') return;
      clearTimeout(timer);
      resolve(m.port);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`fuzz-server exited before it was ready (${exit?.code ?? exit?.signal})\n${stderr}`));
    });
  });

  /** Asks the child over IPC; rejects after 5 s (a child that cannot answer is hung) or when it is gone. */
  const ask = <T>(m: ToServer, queue: ((v: T) => void)[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exit !== null) return reject(new Error('fuzz-server has exited'));
      const timer = setTimeout(() => reject(new Error(`fuzz-server did not answer '${m.t}' within 5 s`)), 5000);
      queue.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
      child.send(m);
    });

  return {
    port,
    pid: child.pid!,
    memory,
    get exit() {
      return exit;
    },
    stderrTail: () => stderr,
    liveHeap: () => lastLive,
    stats: () => ask<ServerStats>({ t: 'stats' }, waiting.stats),
    quiet: () => ask<number>({ t: 'quiet' }, waiting.quiet),
    resetPeaks() {
      Object.assign(memory, { peakRss: 0, peakHeap: 0, peakLiveHeap: lastLive, baselineLiveHeap: lastLive, samples: 0, maxGapMs: 0 });
      lastSample = 0;
    },
    async stop() {
      if (exit === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
}
