// Types of demo/server.mjs, for the browser tests that start it in-process.
export const DEFAULT_PORT: number;

export type Fault = 'refuseWebSocket' | 'hangWebSocket' | 'blockSse' | 'bufferSse';

export interface DemoStats {
  /** WebSocket upgrade requests (refused and hung ones included). */
  websocket: number;
  /** SSE stream requests. */
  sse: number;
  /** Poll requests, and those of them that were handshakes (no cid). */
  poll: number;
  pollHandshakes: number;
  /** Upstream POSTs. */
  send: number;
  /** TCP connections cut by dropAll(). */
  dropped: number;
}

export interface DemoServer {
  url: string;
  port: number;
  close(): Promise<void>;
  faults: Readonly<Record<Fault, boolean>>;
  setFault(name: Fault, on: boolean): Record<Fault, boolean>;
  /** Cuts every TCP connection now; returns how many. */
  dropAll(): number;
  stats: DemoStats;
  /** Every `note` event the server received, in order. */
  notes: { sid: string; n: number; text: string }[];
  realtime: unknown;
}

export function startDemoServer(options?: {
  port?: number;
  host?: string;
  strictPort?: boolean;
  /** 0: no tick stream of its own (a cluster node: the cluster's publisher ticks). */
  tickMs?: number;
  heartbeatMs?: number;
  /** The Redis adapter, for a node of the demo cluster (demo/cluster.mjs). */
  adapter?: unknown;
  /** This node's name, sent to every session it takes up as the app event `node`. */
  nodeName?: string;
  /** Runs a `count` stream elsewhere (the cluster's publisher) instead of on a timer in this process. */
  runCount?: (count: { sid: string; to: number; everyMs: number }) => void;
  log?: (...args: unknown[]) => void;
}): Promise<DemoServer>;
