import type { Logger } from './types';

/** Refusal of a new session because its client holds too many (`maxSessionsPerClient`). */
export interface Refusal {
  message: string;
  /** Seconds: the grace period, after which an abandoned session of this client has been freed. */
  retryAfter: number;
}

/** How many sessions each client (its remote address, the client key) holds here, under `maxSessionsPerClient`. */
export class ClientQuota {
  /** Sessions per client key; entries are removed at zero. */
  private readonly perClient = new Map<string, number>();
  /** The client key each live session counts against. */
  private readonly clientOf = new Map<string, string>();

  constructor(
    private readonly opts: { maxSessionsPerClient: number; sessionGraceMs: number; logger: Logger },
  ) {}

  /** Null while `client` may have one more session; else the refusal to answer (and a warning is logged). */
  check(client: string | undefined): Refusal | null {
    if ((this.perClient.get(client ?? '') ?? 0) < this.opts.maxSessionsPerClient) return null;
    this.opts.logger.warn('too many sessions for one client; handshake refused', { client, limit: this.opts.maxSessionsPerClient });
    return {
      message: `too many sessions for this client (limit ${this.opts.maxSessionsPerClient})`,
      retryAfter: Math.max(1, Math.ceil(this.opts.sessionGraceMs / 1000)),
    };
  }

  /** Session `sid` counts against `client` from now on. */
  add(sid: string, client: string): void {
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    this.clientOf.set(sid, client);
  }

  /** Session `sid` no longer counts against its client (once, whatever the number of calls). */
  release(sid: string): void {
    const client = this.clientOf.get(sid);
    if (client === undefined) return;
    this.clientOf.delete(sid);
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n > 0) this.perClient.set(client, n);
    else this.perClient.delete(client);
  }

  clear(): void {
    this.perClient.clear();
    this.clientOf.clear();
  }
}
