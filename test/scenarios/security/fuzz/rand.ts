/**
 * The fuzz's random source: everything an input is made of comes from one of these, seeded, so a seed names the
 * same inputs again (which ones ran depends on timing: the run is bounded by time too).
 */
import { seededRandom } from '../../../support/seeded-random';

export class Rand {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }

  /** A size from a log scale: mostly small, sometimes up to `max`. */
  size(max: number): number {
    return Math.min(max, Math.floor(Math.exp(this.next() * Math.log(max + 1))));
  }

  /** Printable ASCII and, sometimes, anything below 0x80 or a few multi-byte characters. */
  text(n: number): string {
    let s = '';
    const wild = this.chance(0.2);
    for (let i = 0; i < n; i++) {
      if (wild && this.chance(0.1)) s += this.pick(['\u0000', '\r', '\n', '\u00e9', '\u{1F600}', '\ud800', '%', '"', '\\']);
      else s += String.fromCharCode(this.int(32, 126));
    }
    return s;
  }

  /** Printable ASCII only: what an HTTP client lets into a header value. */
  printable(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(32, 126));
    return s;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }

  /** A random JSON value, at most `depth` levels of containers. */
  json(depth = 3): unknown {
    const kind = depth <= 0 ? this.int(0, 5) : this.int(0, 7);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1, 1.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER, this.int(0, 1e6)]);
      case 3:
        return this.text(this.size(64));
      case 4:
        return this.pick(['t', 'seq', 'id', 'e', 'd', 'msg', 'emit', 'req', 'ack', 'upgrade', 'echo', '__proto__', 'constructor']);
      case 5:
        return '';
      case 6:
        return Array.from({ length: this.int(0, 4) }, () => this.json(depth - 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(0, 4); i > 0; i--) o[this.json(0) as string] = this.json(depth - 1);
        return o;
      }
    }
  }

  /** A new source for a sub-task, drawn from this one. */
  fork(): Rand {
    return new Rand(this.int(0, 2 ** 32 - 1));
  }
}

/** A fuzz source address: most from a few addresses, the rest spread over 127.77.0.0/16 (Linux routes 127/8 to lo). */
export function fuzzAddress(r: Rand): string {
  return r.chance(0.5) ? `127.77.0.${r.int(2, 9)}` : `127.77.${r.int(0, 255)}.${r.int(1, 254)}`;
}

/** Percent-encodes every byte of the UTF-8 of `s` (lone surrogates become U+FFFD: encodeURIComponent throws on them). */
export const percentEncode = (s: string): string => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** Shortens an input's description for the failure report. */
export function clip(s: string, max = 240): string {
  const flat = JSON.stringify(s.slice(0, max)).slice(1, -1);
  return s.length <= max ? flat : `${flat.slice(0, max)}…(${s.length} chars)`;
}
