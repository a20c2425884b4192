/**
 * Starts share-server.mjs as a child process on a free loopback port and stops it on every exit path (the test's
 * `finally`, and this process's exit should a worker die first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ShareServer {
  origin: string;
  stats(): Promise<ShareStats>;
  /** The server emits `tick` n+1..n+count to every session, one every `everyMs` (0: all at once); returns the range. */
  ticks(count: number, everyMs?: number): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

export interface ShareStats {
  /** Sessions the server created. */
  sessions: number;
  /** Sessions it holds now. */
  live: number;
  /** Connections by transport (WebSocket upgrades, SSE and poll requests). */
  connections: { websocket: number; sse: number; polling: number };
  /** Per tab, the numbers of its `say` emits in the order the server's handler ran them. */
  said: Record<string, number[]>;
  tick: number;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startShareServer(): Promise<ShareServer> {
  const script = fileURLToPath(new URL('./share-server.mjs', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`share-server.mjs exited (${code}) before listening: ${out}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  const get = async <T>(path: string): Promise<T> => (await (await fetch(origin + path)).json()) as T;
  return {
    origin,
    stats: () => get<ShareStats>('/ctl/stats'),
    ticks: (count, everyMs = 0) => get(`/ctl/ticks?count=${count}&everyMs=${everyMs}`),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
}
