// The test helper that starts redis-server: it must fail loudly without the binary and leave no process behind.
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer, stopAllRedisServers } from './redis-server';

afterAll(stopAllRedisServers);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('redis-server for tests', () => {
  it('restarts on the same port as a new process, and stop leaves none running', async () => {
    const server = await startRedisServer();
    const first = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const second = server.pid;
    await server.stop();
    expect(alive(second)).toBe(false);
  });

  it('fails with the install hint when the binary is missing, never skips', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startRedisServer()).rejects.toThrow('redis-server not found: apt-get install redis-server; .ci/run does');
    } finally {
      process.env.PATH = path;
    }
  });
});
