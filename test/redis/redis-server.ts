// A real redis-server (Debian's package) for one test file: loopback, a free port, no persistence, killed by pid on
// every way out. A missing binary fails the test: these tests never skip (.ci/run installs the package).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:port */
  readonly url: string;
  /** Pid of the running process (changes on restart). */
  readonly pid: number;
  /** Kills the process (SIGKILL: nothing is saved, and there is nothing to save) and starts a new one on the same port. */
  restart(): Promise<void>;
  /** Kills the process and removes its directory; idempotent. */
  stop(): Promise<void>;
}

const NOT_FOUND = 'redis-server not found: apt-get install redis-server; .ci/run does';
const READY_TIMEOUT_MS = 10_000;

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
const running = new Set<RedisServer>();

// Vitest's hooks cover a normal end; this covers a worker that exits early (a thrown hook, process.exit).
process.on('exit', () => {
  for (const child of live) killByPid(child);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function killByPid(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket: true on +PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function spawnRedis(port: number, dir: string): { child: ChildProcess; output: () => string; failed: Promise<Error> } {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const failed = new Promise<Error>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? new Error(NOT_FOUND) : err));
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(new Error(`redis-server exited (${signal ?? code}) before answering PING:\n${output}`));
    });
  });
  return { child, output: () => output, failed };
}

async function waitUntilReady(port: number, failed: Promise<Error>): Promise<void> {
  let failure: Error | null = null;
  void failed.then((err) => (failure = err));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (failure) throw failure;
    if (await pings(port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw failure ?? new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killByPid(child);
  await exited;
  live.delete(child);
}

/** Starts redis-server on a free loopback port and waits until it answers PING. */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rf-redis-'));
  dirs.add(dir);
  let port = 0;
  let child: ChildProcess | null = null;
  // The free port is only free when probed: another process may take it before redis binds, so try a few.
  for (let attempt = 1; child === null; attempt++) {
    port = await freeLoopbackPort();
    const started = spawnRedis(port, dir);
    try {
      await waitUntilReady(port, started.failed);
      child = started.child;
    } catch (err) {
      await kill(started.child);
      const inUse = started.output().includes('Address already in use');
      if (!inUse || attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
        throw err;
      }
    }
  }
  let current: ChildProcess = child;
  let stopped = false;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return current.pid ?? -1;
    },
    async restart() {
      if (stopped) throw new Error('redis-server was stopped');
      await kill(current);
      const started = spawnRedis(port, dir);
      current = started.child;
      await waitUntilReady(port, started.failed);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill(current);
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
  running.add(server);
  return server;
}

/** Stops every server this file started (use in afterAll, or afterEach for per-test servers). */
export async function stopAllRedisServers(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((s) => s.stop()));
}
