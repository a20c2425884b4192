// Types of demo/redis-server.mjs.
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

export function startRedisServer(options?: { readyTimeoutMs?: number; notFound?: string }): Promise<RedisServer>;
