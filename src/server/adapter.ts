import type { Logger } from './options';
import type { SessionJournal } from './session-journal';

/** What the server tells an adapter about itself when it starts. */
export interface AdapterSettings {
  /** The replay bounds of one session (`replayBufferMaxMessages` / `replayBufferMaxBytes`). */
  replayLimits: { maxMessages: number; maxBytes: number };
  /** How long a session outlives its last connection. */
  sessionGraceMs: number;
  logger: Logger;
}

/**
 * A shared store for sessions, so they outlive the process that holds them (realtime-fallback/server/redis makes
 * one). Without an adapter the server keeps sessions in memory only, as it always did.
 */
export interface RealtimeAdapter {
  /** Called once by the server; returns the journal its sessions write every change to. */
  open(settings: AdapterSettings): SessionJournal;
  /** Called by `rt.close()`: flushes what is pending and releases connections and timers. */
  close(): Promise<void>;
}
