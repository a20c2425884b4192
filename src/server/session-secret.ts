import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A session's resume secrets: the current one, and the one it replaced while the client may not have it yet. */
export interface SessionSecrets {
  secret: string;
  /** null once the client presented `secret` (or before the first rotation). */
  previous: string | null;
}

/** 24 random bytes (192 bits), base64url. */
const newSecret = (): string => randomBytes(24).toString('base64url');

/**
 * Who holds a session is who holds its secret. Every resume hands the client a fresh one; the one it presented stays
 * good until the client presents the new one anywhere (a welcome lost on the way costs no resync), then it dies. A
 * resume with that previous secret changes nothing: a racing resume's welcome may carry the current one already.
 */
export class SessionSecret {
  private current: Buffer;
  private previous: Buffer | null;
  private used = false;

  constructor(
    from?: SessionSecrets,
    /** Told of each use that a store of the session must record (`expected`: the current secret before it). */
    private readonly written?: (expected: string, secrets: SessionSecrets) => void,
  ) {
    this.current = Buffer.from(from?.secret ?? newSecret());
    this.previous = from?.previous ? Buffer.from(from.previous) : null;
  }

  /** The client presented a secret of this session: it holds a welcome, so its join key has done its job. */
  get presented(): boolean {
    return this.used;
  }

  get value(): SessionSecrets {
    return { secret: this.current.toString(), previous: this.previous?.toString() ?? null };
  }

  /** Which of the two `presented` is, without changing anything. Both are compared, each in constant time. */
  match(presented: string): 'current' | 'previous' | null {
    const b = Buffer.from(presented);
    const current = same(b, this.current);
    const previous = this.previous !== null && same(b, this.previous);
    return current ? 'current' : previous ? 'previous' : null;
  }

  /**
   * The client presents `presented` (a poll, a POST, a probe, or with `rotate` a resume). Null when it is not good;
   * else the secrets now, changed when presenting the current one retired the previous or rotated.
   */
  use(presented: string, rotate: boolean): { changed: boolean; secrets: SessionSecrets } | null {
    const which = this.match(presented);
    if (which === null) return null;
    const expected = this.current.toString();
    this.used = true;
    let changed = false;
    if (which === 'current' && rotate) {
      this.previous = this.current;
      this.current = Buffer.from(newSecret());
      changed = true;
    } else if (which === 'current' && this.previous !== null) {
      this.previous = null;
      changed = true;
    }
    // A resume writes even when nothing changed: a store shared by processes must still agree before the welcome.
    if (changed || rotate) this.written?.(expected, this.value);
    return { changed, secrets: this.value };
  }
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
