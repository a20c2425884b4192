// Types of demo/cluster.mjs, for the browser test that starts the demo cluster in-process.
export interface DemoClusterNode {
  name: string;
  port: number;
  alive: boolean;
  /** Pid of its current process (-1 before the first start). */
  pid: number;
}

export interface DemoCluster {
  url: string;
  port: number;
  redisUrl: string;
  nodes(): DemoClusterNode[];
  /** Every process the cluster started (redis-server, each node run), running or not. */
  pids(): number[];
  /** SIGKILLs a live node and starts it again on its port after `restartMs`; false if no live node has that name. */
  kill(name: string): boolean;
  close(): Promise<void>;
}

export function startDemoCluster(options?: {
  nodes?: number;
  port?: number;
  host?: string;
  strictPort?: boolean;
  tickMs?: number;
  restartMs?: number;
  log?: (...args: unknown[]) => void;
}): Promise<DemoCluster>;
