/** The parent's handle on one server process (server-process.ts): start it, ask it for figures, SIGKILL it. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild } from './server-process';

/** What a server process reports as it goes: a handler run, or a debug line about a session. */
export type Report = Extract<FromChild, { t: 'up' | 'trace' }>;

/** The server process, restartable on the same port. */
export class ServerProcess {
  child: ChildProcess | null = null;
  port = 0;
  private readonly waiters = new Map<string, (m: FromChild) => void>();

  constructor(
    private readonly env: Record<string, string>,
    private readonly onReport: (m: Report) => void,
  ) {}

  /** `SOAK_NODE` of this process (`n0`, ...), or `single` / `publisher`. */
  get name(): string {
    return this.env.SOAK_NODE ?? this.env.SOAK_ROLE ?? 'single';
  }

  async start(): Promise<number> {
    const script = fileURLToPath(new URL('./server-process.ts', import.meta.url));
    const child = fork(script, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (m: FromChild) => {
      if (m.t === 'up' || m.t === 'trace') this.onReport(m);
      else this.waiters.get(m.t)?.(m);
    });
    const ready = (await this.next('ready', 20_000)) as Extract<FromChild, { t: 'ready' }>;
    this.port = ready.port;
    return ready.port;
  }

  next(type: FromChild['t'], timeoutMs = 5000): Promise<FromChild> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server process: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(type, (m) => {
        clearTimeout(timer);
        this.waiters.delete(type);
        resolve(m);
      });
    });
  }

  async stats(): Promise<Extract<FromChild, { t: 'stats' }>> {
    const reply = this.next('stats');
    this.child?.send({ t: 'stats' });
    return (await reply) as Extract<FromChild, { t: 'stats' }>;
  }

  stopTicks(): void {
    this.child?.send({ t: 'stop-ticks' });
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
