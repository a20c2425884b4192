import type { BusMessage, BusTarget } from './bus';
import type { SessionJournal } from './session-journal';
import type { Connection, Logger } from './types';

/** What a session needs from the server; `S` is the session itself (Session), as it is reported back. */
export interface SessionHooks<S> {
  publish(target: BusTarget, message: BusMessage): void;
  /** The session's connection dropped (or was handed over): `conn` is null while it waits for a resume. */
  onConnectionChange(session: S, conn: Connection | null): void;
  logger: Logger;
  /** The largest message the session sends (`maxMessageBytes`); absent: no limit. */
  maxMessageBytes?: number;
  /** Where changes are written as they happen (with an adapter); absent: memory only. */
  journal?: SessionJournal;
  /** A journal write failed: the session cannot promise durability here any more. */
  onJournalFailure?(session: S, err: unknown): void;
  /**
   * The client acknowledged frames, or had every frame until one more was just sent: how long it has owed an ack
   * counts from now (the session's memory budget lets those owing longest go first).
   */
  caughtUp?(session: S): void;
}

/**
 * Where a session stands. `live`: its frames are numbered, held and delivered, its client frames run. `letGo`:
 * another process carries it on, so whatever still wants out (a running handler's reply) goes unnumbered to the
 * journal for it, and nothing new runs here. `ended`: for good.
 */
export type SessionState = 'live' | 'letGo' | 'ended';

/** What each part of a session (SessionOutbox, ClientFrameIntake) knows of the session it belongs to. */
export interface SessionPartHost {
  readonly sid: string;
  readonly logger: Logger;
  /** The largest message the session sends (`maxMessageBytes`); absent: no limit. */
  readonly maxMessageBytes?: number | undefined;
  readonly journal?: SessionJournal | undefined;
  state(): SessionState;
}
