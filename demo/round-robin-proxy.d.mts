// Types of demo/round-robin-proxy.mjs, for the cluster tests and the demo cluster's tests.
import type http from 'node:http';

export interface ProxyStats {
  /** Plain HTTP requests that reached each target, by port. */
  requests: Record<number, number>;
  /** WebSocket (any) upgrades tunnelled to each target, by port. */
  upgrades: Record<number, number>;
  /** Connection attempts that failed and were passed on to the next target, by port (a dead node). */
  refused: Record<number, number>;
  /** Sockets open now, client and target sides together: 0 once `close()` has resolved. */
  openSockets: number;
}

export interface RoundRobinProxy {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The listening server, so a test can check `listening` after `close()`. */
  server: http.Server;
  /** Stops listening and destroys every socket, both sides; resolves once all have closed. */
  close(): Promise<void>;
  stats(): ProxyStats;
}

/**
 * `targets()` is read for every new request and upgrade, so the set can change as nodes die and return. Listens on
 * `listen.port` of `listen.host` (default: a free loopback port); rejects if that port is busy.
 */
export function startRoundRobinProxy(targets: () => number[], listen?: { port?: number; host?: string }): Promise<RoundRobinProxy>;
