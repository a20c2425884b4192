import { timingSafeEqual } from 'node:crypto';
import type { ClientFrame } from '../../protocol/frames';
import type { Forwarded, PollReply } from '../adapter';
import type { NodeLink } from './node-link';
import type { SessionLog } from './session-log';

/** How long a node waits for the holder to take forwarded frames before the client is told to retry. */
const FORWARD_TIMEOUT_MS = 5000;
/** While a relayed poll is held, how often the holder is checked for life (a publish it must be subscribed to). */
const HOLDER_CHECK_MS = 1000;

/**
 * Requests that land on a node which does not hold their session (round-robin, no sticky sessions) go to the holder
 * over pub/sub and are answered with what it answers, so the session does not have to move: upstream POSTs (the
 * holder's `ack`) and held polls (the holder's poll answer). The holder answers null when the connection named is not
 * its active one any more (→ 410: the client resumes); no answer in time → 503 + Retry-After.
 */
export class Forwarder {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(answer: unknown): void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly log: SessionLog,
    private readonly link: NodeLink,
    /** A held poll is answered within the heartbeat; a little more than that is "no answer". */
    private readonly pollTimeoutMs: number,
  ) {}

  async forward(sid: string, secret: string, cid: string, frames: readonly ClientFrame[]): Promise<Forwarded> {
    const holder = await this.holder(sid, secret, cid);
    if (typeof holder !== 'object') return holder;
    const { id, answer } = this.expect<number | null>(FORWARD_TIMEOUT_MS);
    // Nobody listening: the holder died; the client resumes elsewhere (410) instead of waiting out the timeout.
    if (!(await this.link.tell(holder.node, { t: 'send', sid, secret, cid, frames: [...frames], from: this.link.nodeId, id }))) this.answered(id, null);
    const n = await answer;
    if (n === 'timeout') return 'unavailable';
    return n === null ? 'gone' : { ack: n };
  }

  async forwardPoll(sid: string, secret: string, cid: string, last: number | undefined, aborted: Promise<void>): Promise<PollReply | 'gone' | 'unavailable'> {
    const holder = await this.holder(sid, secret, cid);
    if (typeof holder !== 'object') return holder;
    const { id, answer } = this.expect<PollReply | null>(this.pollTimeoutMs);
    if (!(await this.link.tell(holder.node, { t: 'poll', sid, secret, cid, last: last ?? null, from: this.link.nodeId, id }))) this.answered(id, null);
    // The client went away here: the holder must not hand this poll the frames it has queued.
    void aborted.then(() => {
      if (this.waiting.has(id)) void this.link.tell(holder.node, { t: 'unpoll', from: this.link.nodeId, id });
    });
    // A held poll waits up to a heartbeat: a holder that dies meanwhile must not keep the client waiting that long.
    const check = setInterval(() => {
      void this.link.tell(holder.node, { t: 'ping' }).then((alive) => {
        if (!alive) this.answered(id, null);
      });
    }, HOLDER_CHECK_MS);
    check.unref?.();
    const reply = await answer.finally(() => clearInterval(check));
    if (reply === 'timeout') return 'unavailable';
    return reply ?? 'gone';
  }

  /** Whether a node holds connection `cid` of session `sid` with this secret (one read of the session's state). */
  async forwardable(sid: string, secret: string, cid: string): Promise<'held' | 'gone' | 'unavailable'> {
    const holder = await this.holder(sid, secret, cid);
    return typeof holder === 'object' ? 'held' : holder;
  }

  /** The holder's answer to request `id`. */
  answered(id: number, answer: unknown): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve(answer);
  }

  /**
   * The node holding connection `cid` of session `sid`, once the secret is checked. Here only against what the store
   * holds (the current secret and the previous one): what the holder takes is never more (it writes a rotation before
   * its welcome leaves, a retired secret after), so this turns away wrong secrets early, and the holder, which checks
   * again, decides: the answer is exactly what it would give a request it received itself.
   */
  private async holder(sid: string, secret: string, cid: string): Promise<{ node: string } | 'gone' | 'unavailable'> {
    const state = await this.log.load(sid).catch(() => undefined);
    if (state === undefined) return 'unavailable';
    if (!state || state.ended || state.cid !== cid || !state.owner || state.owner === this.link.nodeId) return 'gone';
    const current = sameSecret(state.secret, secret);
    const previous = state.previousSecret !== null && sameSecret(state.previousSecret, secret);
    if (!current && !previous) return 'gone';
    return { node: state.owner };
  }

  private expect<T>(timeoutMs: number): { id: number; answer: Promise<T | 'timeout'> } {
    const id = this.nextId++;
    const answer = new Promise<T | 'timeout'>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve('timeout');
      }, timeoutMs);
      timer.unref?.();
      this.waiting.set(id, { resolve: resolve as (answer: unknown) => void, timer });
    });
    return { id, answer };
  }

  close(): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.resolve(null);
      this.waiting.delete(id);
    }
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
