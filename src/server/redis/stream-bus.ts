import type { Bus, BusHandler, BusMessage, BusTarget, CatchUpOutcome } from '../bus';
import type { Logger } from '../types';
import { encoded } from '../errors';
import { decodePosition, encodePosition, type BusPosition } from './bus-position';
import { replyArray, replyInt, replyText, type RedisCommands } from './redis-commands';
import { busHeadScript, publishScript } from './bus-scripts';

/** Entries one read brings back at most, and one publish script adds at most (both stay bounded). */
const BATCH = 500;
/** How long a blocking read waits before it is sent again (a read without its own connection polls instead). */
const BLOCK_MS = 2000;
const POLL_MS = 50;
/** Pause after a failed read before the next (Redis down: the client reconnects meanwhile). */
const RETRY_MS = 500;

export interface StreamBusOptions {
  /** Key of the stream (`busStream`) and of its entry count (`busCount`). */
  stream: string;
  count: string;
  /** Entries kept in the stream (trimmed approximately, never below this). */
  maxLength: number;
  logger: Logger;
}

interface Entry {
  at: BusPosition;
  target: BusTarget;
  /** Null for an entry that is not one of ours: it is passed over, its position taken (`n` NaN: not counted). */
  message: BusMessage | null;
}

/**
 * Fan-out across processes through one Redis stream: a broadcast is one entry, written once (the events of one
 * event-loop turn in one script), and every process reads the stream in the same order and numbers each entry into
 * the sessions it holds. A session records the position it has taken events up to together with its frames, so a
 * process that restores it hands it the entries after that position (`catchUp`) and the ones before never again.
 * Events of one publisher keep their order. The stream is trimmed to `maxLength` entries; a position older than what
 * is kept gives `gap`, never a silent loss.
 */
export class StreamBus implements Bus {
  private handler: BusHandler | undefined;
  private readonly lossListeners = new Set<() => void>();
  /** Events published this turn, added together at its end. */
  private queue: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private reading: Promise<void> | undefined;
  private closed = false;
  /** Ends the pause between polls early (something was published here, or the bus closes). */
  private wake: (() => void) | undefined;
  /** Resolves once what the last entries made is written (see `paceBy`). */
  private written: () => Promise<void> = () => Promise.resolve();

  private constructor(
    private readonly redis: RedisCommands,
    /** A connection of its own for blocking reads; without one the bus polls through `redis`. */
    private readonly reader: RedisCommands | undefined,
    private readonly options: StreamBusOptions,
    /** The last entry this process has read: its subscriber has seen everything up to here. */
    private head: BusPosition,
  ) {}

  /** Starts reading at the stream's current end: a new process has no sessions that need older entries. */
  static async open(redis: RedisCommands, reader: RedisCommands | undefined, options: StreamBusOptions): Promise<StreamBus> {
    const reply = replyArray(await busHeadScript.run(redis, [options.stream, options.count], []), 'busHead');
    return new StreamBus(redis, reader, options, { id: replyText(reply[0], 'busHead'), n: replyInt(reply[1], 'busHead') });
  }

  publish(target: BusTarget, message: BusMessage): void {
    const entry: { e: string; d?: unknown; r?: readonly string[]; s?: readonly string[]; x?: string } = { e: message.e };
    if (message.d !== undefined) entry.d = message.d;
    if (target.rooms) entry.r = target.rooms;
    if (target.sessions) entry.s = target.sessions;
    if (target.except !== undefined) entry.x = target.except;
    this.queue.push(encoded('the event data', () => JSON.stringify(entry), message.d));
    if (this.queue.length === 1) queueMicrotask(() => this.flush());
  }

  subscribe(handler: BusHandler): () => void {
    this.handler = handler;
    this.reading ??= this.readLoop();
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  /**
   * Reads the next entries only once `written()` resolves after the last were delivered: a node whose writes lag
   * behind reads less often and more at a time, instead of holding a growing backlog of frames in memory.
   */
  paceBy(written: () => Promise<void>): void {
    this.written = written;
  }

  position(): string {
    return encodePosition(this.head);
  }

  onLoss(listener: () => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  async catchUp(from: string, deliver: BusHandler): Promise<CatchUpOutcome> {
    let at = decodePosition(from);
    if (!at) return 'gap';
    for (;;) {
      const until = this.head;
      if (encodePosition(at) >= encodePosition(until)) return 'caught_up';
      const reply = await this.redis.sendCommand(['XRANGE', this.options.stream, `(${at.id}`, until.id, 'COUNT', String(BATCH)]);
      const entries = this.parse(reply);
      // The subscriber read entries up to `until`: if they are not there any more, they were trimmed.
      if (entries.length === 0) return 'gap';
      for (const e of entries) {
        if (Number.isNaN(e.at.n)) {
          at = { id: e.at.id, n: at.n };
          continue;
        }
        if (e.at.n !== at.n + 1) return 'gap';
        at = e.at;
        if (e.message) deliver(e.target, e.message, encodePosition(at));
      }
    }
  }

  /** Resolves once everything published so far is in the stream (for close and tests). */
  settled(): Promise<void> {
    if (this.queue.length > 0) this.flush();
    return this.chain;
  }

  /** Stops reading (the adapter closes the reading connection, which ends a blocked read). */
  async close(): Promise<void> {
    await this.settled();
    this.closed = true;
    this.wake?.();
    this.handler = undefined;
    this.lossListeners.clear();
  }

  /** Waits for `reading` to stop, after `close` and the reading connection's end. */
  async stopped(): Promise<void> {
    await this.reading;
  }

  private flush(): void {
    const texts = this.queue;
    this.queue = [];
    if (texts.length === 0) return;
    const { stream, count, maxLength, logger } = this.options;
    for (let i = 0; i < texts.length; i += BATCH) {
      const batch = texts.slice(i, i + BATCH);
      this.chain = this.chain
        .then(() => publishScript.run(this.redis, [stream, count], [String(maxLength), ...batch]))
        .then(
          () => this.wake?.(),
          (err: unknown) => logger.error('publishing to the redis bus failed; these events reached no session', { events: batch.length, err }),
        );
    }
  }

  private async readLoop(): Promise<void> {
    let failing = false;
    while (!this.closed) {
      let reply: unknown;
      try {
        const read = ['XREAD', 'COUNT', String(BATCH), ...(this.reader ? ['BLOCK', String(BLOCK_MS)] : []), 'STREAMS', this.options.stream, this.head.id];
        reply = await (this.reader ?? this.redis).sendCommand(read);
      } catch (err) {
        if (this.closed) return;
        if (!failing) this.options.logger.error('reading the redis bus failed; retrying (events wait in the stream)', { err });
        failing = true;
        await this.pause(RETRY_MS);
        continue;
      }
      if (failing) this.options.logger.warn('reading the redis bus again', {});
      failing = false;
      let entries: Entry[];
      try {
        entries = this.parse(streamEntries(reply));
      } catch (err) {
        this.options.logger.error('unreadable reply from the redis bus', { err });
        await this.pause(RETRY_MS);
        continue;
      }
      if (entries.length === 0) {
        if (!this.reader) await this.pause(POLL_MS);
        continue;
      }
      this.take(entries);
      await this.written().catch(() => {}); // a failed write is the session's business, not the reader's
    }
  }

  private take(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (this.closed) return;
      if (Number.isNaN(e.at.n)) {
        this.head = { id: e.at.id, n: this.head.n };
        continue;
      }
      // Counts run one after another; a jump means entries went before this process read them.
      if (e.at.n !== this.head.n + 1) {
        this.options.logger.error('redis bus entries were lost before this process read them (trimmed, or redis restarted); its sessions are let go and resume from what redis holds', { after: this.head.n, next: e.at.n });
        for (const l of [...this.lossListeners]) l();
      }
      this.head = e.at;
      if (!e.message) continue;
      try {
        this.handler?.(e.target, e.message, encodePosition(e.at));
      } catch (err) {
        this.options.logger.error('delivering a bus event failed', { err });
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Entries as read by XRANGE (`[[id, [field, value, …]], …]`); unreadable ones are logged and skipped. */
  private parse(reply: unknown): Entry[] {
    if (reply === null || reply === undefined) return [];
    const out: Entry[] = [];
    for (const raw of replyArray(reply, 'bus')) {
      const [idReply, fieldsReply] = replyArray(raw, 'bus entry');
      const id = replyText(idReply, 'bus entry');
      const fields = replyArray(fieldsReply, 'bus entry').map((f) => replyText(f, 'bus entry'));
      const n = Number(fields[fields.indexOf('n') + 1]);
      const text = fields[fields.indexOf('m') + 1] ?? '';
      let m: { e?: unknown; d?: unknown; r?: unknown; s?: unknown; x?: unknown };
      try {
        m = JSON.parse(text) as typeof m;
      } catch {
        m = {};
      }
      const target: BusTarget = {};
      if (!Number.isSafeInteger(n) || typeof m.e !== 'string') {
        this.options.logger.error('unreadable redis bus entry passed over', { id });
        out.push({ at: { id, n }, target, message: null });
        continue;
      }
      if (Array.isArray(m.r)) target.rooms = m.r.filter((r): r is string => typeof r === 'string');
      if (Array.isArray(m.s)) target.sessions = m.s.filter((r): r is string => typeof r === 'string');
      if (typeof m.x === 'string') target.except = m.x;
      out.push({ at: { id, n }, target, message: m.d === undefined ? { e: m.e } : { e: m.e, d: m.d } });
    }
    return out;
  }
}

/** The entries of the one stream an XREAD asked for: RESP2 answers `[[key, entries]]`, RESP3 `{ key: entries }`. */
function streamEntries(reply: unknown): unknown {
  if (reply === null || reply === undefined) return null;
  if (Array.isArray(reply)) return (reply[0] as unknown[] | undefined)?.[1] ?? null;
  if (reply instanceof Map) return reply.values().next().value ?? null;
  if (typeof reply === 'object') return Object.values(reply)[0] ?? null;
  return null;
}
