/**
 * Server nodes (test/cluster/node-process.ts) as child processes: started on a given or free port, killed with
 * SIGKILL by pid on every exit path. What clients emit is collected from every node.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromNode } from './node-process';

export type Up = Extract<FromNode, { t: 'up' }>;

export interface Node {
  port: number;
  pid: number;
  /** SIGKILL: no shutdown, no flush, as in a crash. */
  kill(): Promise<void>;
  /** A deploy: `rt.close()`, then the process exits. */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export async function startNode(redisUrl: string, onUp: (up: Up) => void, port = 0, env: Record<string, string> = {}): Promise<Node> {
  const child = fork(fileURLToPath(new URL('./node-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, REDIS_URL: redisUrl, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
  const ready = await new Promise<Extract<FromNode, { t: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node: not ready within 20 s')), 20_000);
    child.on('message', (m: FromNode) => {
      if (m.t === 'up') onUp(m);
      else if (m.t === 'ready') {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => reject(new Error(`node exited before it was ready (${code})`)));
  });
  return {
    port: ready.port,
    pid: child.pid!,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.send({ t: 'stop' });
      await exited;
    },
  };
}

/** Kills every node still running (afterEach). */
export async function killAllNodes(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}
