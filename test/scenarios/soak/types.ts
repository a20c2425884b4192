/** What the soak's parts hand each other: its options, the clients' snapshots, the nodes' reports and the report. */
import type { TransportName } from '../../../src/protocol/frames';
import type { FaultCounters } from './fault-proxy';

export interface SoakOptions {
  clients: number;
  /** How long faults are injected. */
  durationMs: number;
  seed: number;
  /** Most server restarts (sessions lost) during the run. */
  maxRestarts: number;
  tickMs?: number;
  emitEveryMs?: number;
  requestEveryMs?: number;
  /** Adds clients in a browser page at the given endpoint URL. */
  browser?: (url: string) => Promise<ClientGroup>;
  /**
   * Cluster mode: this many nodes on a real redis-server behind a round-robin balancer, and a publisher process
   * streaming one counter to every session; restarts become SIGKILLs of one node (sessions kept).
   */
  nodes?: number;
  /** The server's message size limit; padded messages reach up to it. Default 256 KiB. */
  maxMessageBytes?: number;
  /** Share of messages, each direction, padded to a random size up to the limit. Default 0.01. */
  largeShare?: number;
  log?: (line: string) => void;
}

/** `single`: one server process, no Redis, a restart loses its sessions. `cluster`: nodes on Redis, kills keep them. */
export type SoakMode = 'single' | 'cluster';

/** One run of a client's `up` handler, as a server process reported it. */
export interface UpRun {
  sid: string;
  n: number;
  /** The run's frame was left unfinished by a node that died or let go. */
  redelivered: boolean;
  /** When it ran: µs of the monotonic clock every process shares (`process.hrtime.bigint() / 1000n`). */
  at: number;
  /** Which process ran it: `n0`, `n1`, ... in cluster mode, `single` otherwise. */
  node: string;
}

/** A server process SIGKILLed by the schedule: which one, and when its exit was seen (µs, the clock of `UpRun.at`). */
export interface NodeKill {
  node: string;
  at: number;
}

/** What the verification needs to know of one client at the end of the run. */
export interface ClientSnapshot {
  id: string;
  sessionId: string | null;
  state: string;
  /** Ticks received, per session id, in arrival order. */
  ticks: Record<string, number[]>;
  /** Sessions announced lost by `resync`. */
  lostSessions: string[];
  resyncReasons: string[];
  /** Emits re-sent to a new session after a resync (the old one may have seen them). */
  resent: number;
  /** Emits accepted (numbered 1..accepted). */
  accepted: number;
  /** Requests not settled yet. */
  pending: number;
  switches: number;
  transports: TransportName[];
  /** The client's lifecycle events, the last few hundred (`ms-since-the-start event detail`); browser clients keep none. */
  recent?: string[];
  /** Per resync: when (ms since the start), the session lost and the lifecycle events up to it. */
  resyncTrails?: { atMs: number; sid: string; recent: string[] }[];
  /** The first tick that did not follow the one before it in its session (ms since the start, what). */
  oddTick?: { atMs: number; what: string };
}

export interface GroupSnapshot {
  clients: ClientSnapshot[];
  latencies: number[];
  requests: { made: number; resolved: number; rejected: Record<string, number> };
}

/** A set of clients (in this process, or in a browser page) that the soak drives and inspects. */
export interface ClientGroup {
  snapshot(): Promise<GroupSnapshot>;
  stopTraffic(): Promise<void>;
  close(): Promise<void>;
}

/** A client whose run went wrong: the first thing seen, and when (ms since the start; null when not known). */
export interface WrongClient {
  client: string;
  what: string;
  atMs: number | null;
}

export interface SoakReport {
  seed: number;
  mode: SoakMode;
  faults: Record<string, number>;
  /** Server processes SIGKILLed (cluster: nodes, sessions kept; single: restarts, sessions lost). */
  kills: number;
  /** What the proxy did: sockets reset, upgrades refused, polls dropped, reads paused by the throttle, ... */
  proxy: FaultCounters | null;
  serverToClient: { sent: number; delivered: number; lost: number; lostWithResync: number; duplicated: number; outOfOrder: number };
  clientToServer: {
    accepted: number;
    arrived: number;
    lost: number;
    /** Repeated handler runs that no node kill explains: each one a problem. */
    runTwice: number;
    /** Repeats flagged `redelivered` whose earlier run was on a node killed at most 1 s later (not a problem). */
    rerunAfterKill: number;
    /** Of those, the longest time from the earlier run to its node's kill: the window a kill re-runs frames in. */
    rerunAfterKillMaxGapMs: number;
    /** Runs flagged `redelivered` in all, and those of them with no earlier run (the killed node never ran it). */
    redelivered: number;
    redeliveredFirstRuns: number;
    /** Emits the clients re-sent to a new session after a resync (for reading the figures; no allowance). */
    resentAfterResync: number;
    outOfOrder: number;
  };
  requests: { made: number; resolved: number; rejected: Record<string, number>; unsettled: number };
  resyncs: number;
  resyncReasons: Record<string, number>;
  unexplainedLostSessions: number;
  /** The faults as they ran: ms since the start, what, and which node. */
  timeline: string[];
  /** Clients that went wrong, earliest first. */
  wrong: WrongClient[];
  /** Where to look for the first of them: its lifecycle, its emits' runs, the servers' lines on its sessions. */
  firstWrong: string[];
  transportSwitches: number;
  transportsUsed: Record<TransportName, number>;
  latencyMs: { p50: number; p99: number; max: number };
  server: { heapBeforeMB: number; heapAfterMB: number; sessionsAtEnd: number; warnings: Record<string, number> };
  /** Padded messages sent each way, and the longest padding (bytes). */
  large: { toServer: number; toClient: number; longestToServer: number; longestToClient: number };
  durationMs: number;
}
