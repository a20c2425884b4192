import { acceptScript, doneScript, unfinishedScript } from './client-frame-scripts';
import type { SessionKeys } from './keys';
import { replyArray, replyInt, replyText, type RedisCommands } from './redis-commands';

/**
 * `gone`: no such session (expired, never made, or Redis lost it) or it ended. `not_owner`: the connection named
 * is no longer the session's (another node took it over): the caller must stop acting for the session.
 */
export type AcceptOutcome = 'accepted' | 'duplicate' | 'gap' | 'gone' | 'not_owner';

export interface AcceptResult {
  outcome: AcceptOutcome;
  /** Last client seq accepted, after this call: what an `ack` frame should carry. */
  accepted: number;
  /** Records of older unfinished frames dropped over the bounds to keep this one (absent: none). */
  dropped?: number;
}

/** A client frame kept with its acceptance (its JSON text), and how many such records a session may hold. */
export interface FrameRecord {
  text: string;
  limits: { maxMessages: number; maxBytes: number };
}

/**
 * The client frames of a session as Redis knows them: how far they are accepted, and the frames accepted whose
 * handlers are not done yet (the `pending` HASH, seq → frame), so the node that holds the session next runs what a
 * node that died left undone. Each method is one round trip.
 */
export class ClientFrameLog {
  constructor(
    private readonly redis: RedisCommands,
    private readonly keys: (sid: string) => SessionKeys,
  ) {}

  /**
   * Records client frame `seq` as accepted when it is the next one (`accepted` moves only on seq = accepted + 1),
   * atomically, so of nodes racing with the same frame exactly one gets `accepted`.
   *
   * The server records acceptance first and runs the handler once this write is done (Session.receive): a node that
   * lost the session meanwhile has the record refused (`not_owner`) and never runs the frame. With `record`, the
   * frame is kept with its acceptance until `done(seq)`, so a node killed before its handler was done leaves it to
   * the next holder (`unfinished`): at most `limits.maxMessages` records of at most `limits.maxBytes` in all (the
   * newest always stays); `dropped` counts the oldest records that had to go.
   *
   * With `cid`, only while that connection holds the session (else `not_owner`, nothing recorded).
   */
  async accept(sid: string, seq: number, cid?: string, record?: FrameRecord): Promise<AcceptResult> {
    const k = this.keys(sid);
    const bounds = record ? [count(record.limits.maxMessages, 'maxMessages', 1), count(record.limits.maxBytes, 'maxBytes', 1)] : ['1', '1'];
    const args = [count(seq, 'seq', 1), cid ?? '', record?.text ?? '', ...bounds];
    const reply = replyArray(await acceptScript.run(this.redis, [k.state, k.pending], args), 'accept');
    const result: AcceptResult = { outcome: replyText(reply[0], 'accept') as AcceptOutcome, accepted: replyInt(reply[1], 'accept') };
    const dropped = reply[2] === undefined ? 0 : replyInt(reply[2], 'accept');
    return dropped > 0 ? { ...result, dropped } : result;
  }

  /** The handlers of client frames `seqs` are done: their records go, and no holder runs them again. */
  async done(sid: string, seqs: readonly number[]): Promise<number> {
    if (seqs.length === 0) return 0;
    const k = this.keys(sid);
    return replyInt(await doneScript.run(this.redis, [k.state, k.pending], seqs.map((n) => count(n, 'seq', 1))), 'done');
  }

  /** The client frames recorded with their acceptance whose handlers are not done, in seq order. */
  async unfinished(sid: string): Promise<{ seq: number; text: string }[]> {
    const reply = replyArray(await unfinishedScript.run(this.redis, [this.keys(sid).pending], []), 'unfinished');
    const records: { seq: number; text: string }[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      records.push({ seq: replyInt(reply[i], 'unfinished'), text: replyText(reply[i + 1], 'unfinished') });
    }
    return records.sort((a, b) => a.seq - b.seq);
  }
}

function count(value: number, name: string, min: number): string {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}: ${value}`);
  return String(value);
}
