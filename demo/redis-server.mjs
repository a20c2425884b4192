// A throwaway redis-server (Debian's package) for the demo cluster, the tests and the benchmarks: loopback, a free
// port, a temporary directory, no persistence. Killed by pid on stop(), and on process exit if nobody stopped it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.mjs';

const NOT_FOUND = 'redis-server not found (Debian: apt-get install redis-server)';

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

/** One redis-server process on `port`: resolves once it answers, rejects with what went wrong. */
async function spawnReady(port, dir, readyTimeoutMs, notFound) {
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
  child.once('error', (err) => (failure = err.code === 'ENOENT' ? new Error(notFound) : err));
  void exited.then((code) => (failure ??= new Error(`redis-server exited (${code ?? child.signalCode}) before answering PING:\n${output}`)));
  const deadline = Date.now() + readyTimeoutMs;
  while (!failure && !(await pings(port))) {
    if (Date.now() > deadline) failure = new Error(`redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms`);
    else await new Promise((r) => setTimeout(r, 20));
  }
  const kill = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
  };
  if (failure) {
    await kill();
    throw Object.assign(failure, { addressInUse: output.includes('Address already in use') });
  }
  return { child, kill };
}

/**
 * Starts redis-server and resolves once it answers: `{ url, port, pid, restart(), stop() }`. `restart()` kills it
 * (SIGKILL: with no persistence, everything is lost) and starts a new process on the same port.
 */
export async function startRedisServer({ readyTimeoutMs = 10_000, notFound = NOT_FOUND } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rf-redis-'));
  let current = null;
  let port = 0;
  const onExit = () => {
    if (current?.child.pid !== undefined && current.child.exitCode === null) current.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  // The free port is only free when probed: another process may take it before redis binds, so try a few.
  for (let attempt = 1; current === null; attempt++) {
    port = await freePort();
    try {
      current = await spawnReady(port, dir, readyTimeoutMs, notFound);
    } catch (err) {
      if (!err.addressInUse || attempt >= 3) {
        process.off('exit', onExit);
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let stopped;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return current.child.pid ?? -1;
    },
    async restart() {
      if (stopped) throw new Error('redis-server was stopped');
      await current.kill();
      current = await spawnReady(port, dir, readyTimeoutMs, notFound);
    },
    stop: () =>
      (stopped ??= (async () => {
        await current.kill();
        rmSync(dir, { recursive: true, force: true });
        process.off('exit', onExit);
      })()),
  };
}
