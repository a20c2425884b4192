import type { Session } from './session';

/**
 * How long after a session was created a handshake may join it by key. The client starts its racers `raceAfterMs`
 * apart (1 s by default; src/client/connector.ts), at most two after the first with three transports, so one race's
 * handshakes leave within 2 s; 10 s leaves room for one that is slow to arrive (a proxy holding an upgrade, a slow
 * TLS handshake) and keeps a leaked key good for seconds rather than for the session's life.
 */
export const JOIN_WINDOW_MS = 10_000;

interface Entry {
  session: Session;
  /** Time after which no handshake joins it. */
  until: number;
}

/**
 * The sessions handshakes may join by their client's join key instead of creating one (protocol §1, "Joining"): only
 * one created by a handshake with the same key and the same credentials, within JOIN_WINDOW_MS of its creation, and
 * only until its client presents the session's secret (then it has a welcome, and later handshakes are stale). Without
 * an `authenticate` hook everyone's credentials are `true`, and the window is the only guard.
 */
export class JoinRegistry {
  /** By join key and credentials; in creation order, so expired entries are the first ones. */
  private readonly entries = new Map<string, Entry>();
  private readonly keys = new WeakMap<Session, string>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** The session a handshake with `join` and credentials `auth` (what `authenticate` returned) joins, if any. */
  find(join: string | undefined, auth: unknown): Session | undefined {
    const key = entryKey(join, auth);
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (!entry) return undefined;
    const s = entry.session;
    // A session whose first frames are gone cannot welcome a joiner as new: it would miss them.
    if (!s.ended && !s.secretPresented && this.now() <= entry.until && s.canReplay(0)) return s;
    this.entries.delete(key!);
    return undefined;
  }

  /** `session` was just created by a handshake with `join` and credentials `auth`. */
  add(join: string | undefined, auth: unknown, session: Session): void {
    const key = entryKey(join, auth);
    if (key === undefined) return;
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (e.until >= now && !e.session.ended) break;
      this.entries.delete(k);
    }
    this.entries.delete(key); // re-inserted last: the map stays in creation order
    this.entries.set(key, { session, until: now + JOIN_WINDOW_MS });
    this.keys.set(session, key);
  }

  /** `session` ended, or this process let it go. */
  remove(session: Session): void {
    const key = this.keys.get(session);
    if (key !== undefined && this.entries.get(key)?.session === session) this.entries.delete(key);
  }
}

/**
 * The key of a join key with credentials: their JSON with object keys sorted, so two equal results compare equal
 * however they were built. Undefined without a join key, or for credentials JSON cannot write (those never join).
 */
function entryKey(join: string | undefined, auth: unknown): string | undefined {
  if (join === undefined) return undefined;
  let credentials: string | undefined;
  try {
    credentials = JSON.stringify(auth, (_key, value: unknown) => (isPlainObject(value) ? sorted(value) : value));
  } catch {
    return undefined; // a cycle, a BigInt
  }
  return credentials === undefined ? undefined : `${join} ${credentials}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function sorted(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}
