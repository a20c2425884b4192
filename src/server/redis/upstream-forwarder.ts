import { timingSafeEqual } from 'node:crypto';
import type { ClientFrame } from '../../protocol/frames';
import type { Forwarded } from '../adapter';
import type { NodeLink } from './redis-journal';
import type { SessionLog } from './session-log';

/** How long a node waits for the holder to take forwarded frames before the client is told to retry. */
const FORWARD_TIMEOUT_MS = 5000;

/**
 * Upstream POSTs that land on a node which does not hold their session (round-robin, no sticky sessions): the frames
 * go to the holder over pub/sub and the POST is answered with the holder's `ack`, so the session does not have to
 * move. The holder answers `null` when the connection named is not its active one any more (→ 410, resume).
 */
export class UpstreamForwarder {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(n: number | null): void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly log: SessionLog,
    private readonly link: NodeLink,
  ) {}

  async forward(sid: string, secret: string, cid: string, frames: readonly ClientFrame[]): Promise<Forwarded> {
    const state = await this.log.load(sid).catch(() => undefined);
    if (state === undefined) return 'unavailable';
    if (!state || state.ended || !sameSecret(state.secret, secret) || state.cid !== cid || !state.owner || state.owner === this.link.nodeId) return 'gone';
    const id = this.nextId++;
    const answer = new Promise<number | null | 'timeout'>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve('timeout');
      }, FORWARD_TIMEOUT_MS);
      timer.unref?.();
      this.waiting.set(id, { resolve, timer });
    });
    this.link.tell(state.owner, { t: 'send', sid, cid, frames: [...frames], from: this.link.nodeId, id });
    const n = await answer;
    if (n === 'timeout') return 'unavailable';
    return n === null ? 'gone' : { ack: n };
  }

  /** The holder's answer to forward `id`. */
  answered(id: number, n: number | null): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve(n);
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
