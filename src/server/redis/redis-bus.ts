import type { Bus, BusHandler, BusMessage, BusTarget } from '../bus';
import type { Logger } from '../options';
import type { NodeLink } from './redis-journal';
import type { SessionLog } from './session-log';

/** Session ids read per SSCAN page while fanning out. */
const PAGE = 200;

/**
 * Fan-out across processes without loss: an event is pushed into the inbox of every target session in Redis, and
 * the process holding each session is woken to number it. A session nobody holds keeps its inbox until it is
 * restored; a process that dies mid-drain leaves the entries to the next one. Publishes are sent one after another,
 * so the events of one publisher reach each session in the order they were published.
 */
export class RedisBus implements Bus {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: SessionLog,
    private readonly link: NodeLink,
    private readonly maxInbox: number,
    private readonly logger: Logger,
  ) {}

  publish(target: BusTarget, message: BusMessage): void {
    const text = JSON.stringify(message.d === undefined ? { t: 'msg', e: message.e } : { t: 'msg', e: message.e, d: message.d });
    this.chain = this.chain
      .then(() => this.fanOut(target, text))
      .catch((err: unknown) => this.logger.error('fan-out through redis failed; the event did not reach every session', { event: message.e, err }));
  }

  /** Delivery goes through each session's inbox, not through subscribers. */
  subscribe(_handler: BusHandler): () => void {
    return () => {};
  }

  /** Resolves once everything published so far is in the inboxes (for close and tests). */
  settled(): Promise<void> {
    return this.chain;
  }

  private async fanOut(target: BusTarget, text: string): Promise<void> {
    const done = new Set<string>();
    const send = async (ids: readonly string[]): Promise<void> => {
      const fresh = ids.filter((id) => !done.has(id) && id !== target.except);
      for (const id of fresh) done.add(id);
      await Promise.all(fresh.map((id) => this.pushTo(id, text)));
    };
    if (!target.rooms) return this.eachPage((cursor) => this.log.allSessions(cursor, PAGE), send);
    for (const room of target.rooms) {
      // A session is in the room named after its own id (`rt.to(sessionId)`).
      await send([room]);
      await this.eachPage((cursor) => this.log.members(room, cursor, PAGE), send);
    }
  }

  private async eachPage(read: (cursor: string) => Promise<{ cursor: string; sessionIds: string[] }>, send: (ids: readonly string[]) => Promise<void>): Promise<void> {
    let cursor = '0';
    do {
      const page = await read(cursor);
      await send(page.sessionIds);
      cursor = page.cursor;
    } while (cursor !== '0');
  }

  private async pushTo(sid: string, text: string): Promise<void> {
    let pushed: Awaited<ReturnType<SessionLog['push']>>;
    try {
      pushed = await this.log.push(sid, [text], this.maxInbox);
    } catch (err) {
      // A room name that is not a session id may not even be a valid key; anything else is a real failure.
      if (err instanceof TypeError) return;
      throw err;
    }
    if (pushed.outcome === 'full') this.logger.error('session inbox full; event not delivered to it', { sid });
    if (pushed.outcome === 'ok' && pushed.owner !== '') void this.link.tell(pushed.owner, { t: 'inbox', sid });
  }
}
