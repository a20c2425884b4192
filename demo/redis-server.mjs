// A throwaway redis-server (Debian's package) for the demo cluster: loopback, a free port, a temporary directory, no
// persistence (the demo's sessions need not survive the demo). `stop()` kills it by pid and removes the directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NOT_FOUND = 'redis-server not found: the demo with --nodes needs it (Debian: apt-get install redis-server)';

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** True once the server answers PING with +PONG. */
function pings(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok) => (socket.destroy(), resolve(ok));
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** Starts redis-server and resolves once it answers; `{ url, port, pid, stop() }`. */
export async function startRedisServer({ readyTimeoutMs = 10_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rf-demo-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => (output = (output + chunk.toString('utf8')).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let failure = null;
  child.once('error', (err) => (failure = err.code === 'ENOENT' ? new Error(NOT_FOUND) : err));
  void exited.then((code) => (failure ??= new Error(`redis-server exited (${code ?? child.signalCode}):\n${output}`)));

  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  // A launcher that exits without close() (an exception, process.exit) must not leave Redis running.
  const onExit = () => {
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (failure) break;
    if (await pings(port)) break;
    if (Date.now() > deadline) {
      failure = new Error(`redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms`);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (failure) {
    await stop();
    process.off('exit', onExit);
    throw failure;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => stop().finally(() => process.off('exit', onExit)),
  };
}
