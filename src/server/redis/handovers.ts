import type { NodeLink } from './node-link';

/**
 * How long a process taking a session over waits for its previous holder, alive, to mark done what it ran. Past it
 * (the holder hangs) the frames still unmarked run again here, flagged `redelivered`.
 */
const RELEASE_WAIT_MS = 2000;

/**
 * Asks the previous holder of a session taken over to let it go, and knows when it has: frames whose handlers ran there
 * are marked done by then, so this process does not run them again. A holder that is gone (nobody listens on its
 * channel) has nothing more to mark: the wait ends at once.
 */
export class Handovers {
  private readonly waiting = new Map<number, () => void>();
  private readonly bySession = new Map<string, Promise<void>>();
  private nextId = 1;

  constructor(private readonly link: NodeLink) {}

  takeOver(sid: string, previous: { nodeId: string; cid: string }): void {
    if (previous.nodeId === this.link.nodeId) return;
    const id = this.nextId++;
    const settled = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, RELEASE_WAIT_MS);
      timer.unref?.();
      this.waiting.set(id, done);
      void this.link.tell(previous.nodeId, { t: 'release', sid, cid: previous.cid, from: this.link.nodeId, id }).then((listening) => {
        if (!listening) done();
      });
    });
    this.bySession.set(sid, settled);
    void settled.then(() => {
      if (this.bySession.get(sid) === settled) this.bySession.delete(sid);
    });
  }

  /** Resolves once the previous holder of `sid` (if any is being waited for) has let it go, or the wait is over. */
  settled(sid: string): Promise<void> {
    return this.bySession.get(sid) ?? Promise.resolve();
  }

  /** The previous holder answered request `id`. */
  answered(id: number): void {
    this.waiting.get(id)?.();
  }

  close(): void {
    for (const done of [...this.waiting.values()]) done();
  }
}
