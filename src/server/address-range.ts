import { isIPv4, isIPv6 } from 'node:net';

/** How many leading bits of a client's address name "one client" for per-client limits. */
export interface AddressPrefixes {
  /** Default 32: one IPv4 address. */
  ipv4: number;
  /** Default 64: one IPv6 subnet, what a single home or phone is given (it may use any address inside). */
  ipv6: number;
}

/**
 * The range a client address belongs to, as a key: `a.b.c.d/n` or the first bits of an IPv6 address `/n`
 * (IPv4-mapped IPv6 counts as IPv4). Anything else (a proxy's garbage, a Unix socket) is its own key.
 */
export function addressRange(address: string, prefixes: AddressPrefixes): string {
  const plain = address.replace(/%.*$/, ''); // a zone id names an interface, not a host
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  const v4 = mapped ? mapped[1]! : plain;
  if (isIPv4(v4)) {
    if (prefixes.ipv4 >= 32) return v4;
    const n = v4.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    const kept = prefixes.ipv4 === 0 ? 0 : Math.floor(n / 2 ** (32 - prefixes.ipv4)) * 2 ** (32 - prefixes.ipv4);
    return `${[24, 16, 8, 0].map((shift) => Math.floor(kept / 2 ** shift) % 256).join('.')}/${prefixes.ipv4}`;
  }
  if (isIPv6(plain)) {
    const groups = ipv6Groups(plain);
    let key = '';
    for (let bit = 0; bit < prefixes.ipv6; bit += 16) {
      const width = Math.min(16, prefixes.ipv6 - bit);
      const group = groups[bit / 16]! >> (16 - width);
      key += `${group.toString(16)}:`;
    }
    return `${key}/${prefixes.ipv6}`;
  }
  return address;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail read as two groups). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}
