import { createHash } from 'node:crypto';
import type { RedisCommands } from './redis-commands';

/**
 * A Lua script run by its SHA1 (EVALSHA), so the source crosses the wire only when Redis lacks it: on first use per
 * server, and after a restart or SCRIPT FLUSH. Then NOSCRIPT costs one extra round trip and EVAL caches it again.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Caches the script in Redis ahead of its first use: without it, the first writes of many sessions at once each
   * get NOSCRIPT and send the whole source again.
   */
  async load(redis: RedisCommands): Promise<void> {
    await redis.sendCommand(['SCRIPT', 'LOAD', this.source]);
  }

  async run(redis: RedisCommands, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await redis.sendCommand(['EVALSHA', this.sha, ...tail]);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.sendCommand(['EVAL', this.source, ...tail]);
    }
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
