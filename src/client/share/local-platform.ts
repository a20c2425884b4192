import type { LockManagerLike } from './election';
import type { ChannelLike, SharePlatform } from './tab-share';

/**
 * BroadcastChannel and Web Locks within one JavaScript realm, with their semantics (a message reaches every other
 * channel of the name, on a later task; a lock is granted to one request at a time, in request order, its callback
 * run on a later task; `ifAvailable` calls back with null when it is held; an aborted queued request rejects with
 * AbortError). A tab without the real ones shares with itself through these (every tab connects by itself), and the
 * unit tests use them as fakes.
 */
export function localPlatform(
  options: { visible?: () => boolean; onVisibility?: SharePlatform['onVisibility'] } = {},
): SharePlatform & { locks: LocalLocks; openChannels(): number } {
  const channels = new Map<string, Set<ChannelLike>>();
  let ids = 0;
  return {
    openChannels: () => [...channels.values()].reduce((n, group) => n + group.size, 0),
    channel(name) {
      let group = channels.get(name);
      if (!group) channels.set(name, (group = new Set()));
      const members = group;
      const channel: ChannelLike = {
        onmessage: null,
        postMessage(message) {
          const data = structuredClone(message);
          for (const other of members) {
            if (other !== channel) setTimeout(() => members.has(other) && other.onmessage?.({ data }), 0);
          }
        },
        close: () => void members.delete(channel),
      };
      members.add(channel);
      return channel;
    },
    locks: localLocks(),
    visible: options.visible ?? (() => true),
    onVisibility: options.onVisibility ?? (() => () => {}),
    newId: () => `tab${++ids}`,
  };
}

interface Waiter {
  callback: (lock: unknown) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Web Locks (exclusive mode, `signal` and `ifAvailable`) for one realm; `held` and `waiting` count them (for tests). */
export interface LocalLocks extends LockManagerLike {
  held(): number;
  waiting(): number;
}

export function localLocks(): LocalLocks {
  const held = new Map<string, Waiter>();
  const queues = new Map<string, Waiter[]>();
  const abortError = (): Error => Object.assign(new Error('aborted'), { name: 'AbortError' });

  // As in browsers, the callback of a granted request runs on a later task, not inside request().
  const grant = (name: string, waiter: Waiter): void => {
    held.set(name, waiter);
    setTimeout(() => {
      let result: Promise<unknown>;
      try {
        result = Promise.resolve(waiter.callback({ name }));
      } catch (error) {
        result = Promise.reject(error);
      }
      result.then(
        (value) => release(name, waiter, () => waiter.resolve(value)),
        (error) => release(name, waiter, () => waiter.reject(error)),
      );
    }, 0);
  };
  const release = (name: string, waiter: Waiter, settle: () => void): void => {
    settle();
    held.delete(name);
    const next = queues.get(name)?.shift();
    if (next) grant(name, next);
  };

  return {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const waiter: Waiter = { callback, resolve, reject };
        if (options.ifAvailable && held.has(name)) {
          // Not granted: the callback runs at once with null, as in browsers.
          return void Promise.resolve()
            .then(() => callback(null))
            .then(resolve, reject);
        }
        if (options.signal?.aborted) return reject(abortError());
        if (!held.has(name)) return grant(name, waiter);
        let queue = queues.get(name);
        if (!queue) queues.set(name, (queue = []));
        queue.push(waiter);
        options.signal?.addEventListener('abort', () => {
          const i = queue.indexOf(waiter);
          if (i < 0) return;
          queue.splice(i, 1);
          reject(abortError());
        });
      });
    },
    held: () => held.size,
    waiting: () => [...queues.values()].reduce((n, queue) => n + queue.length, 0),
  };
}
