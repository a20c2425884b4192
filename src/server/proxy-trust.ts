import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Which hops in front of the server are reverse proxies whose forwarded headers may be believed (like express's
 * `trust proxy`):
 * - `false` (default): none; the socket's peer is the client and forwarded headers are ignored.
 * - `true`: every hop; the client is the leftmost `X-Forwarded-For` address.
 * - a number `n`: the `n` hops nearest the server.
 * - a list of proxy addresses: IPs, CIDR ranges (`10.0.0.0/8`, `fd00::/8`) or the names `loopback`, `linklocal`,
 *   `uniquelocal`.
 */
export type TrustProxy = boolean | number | readonly string[];

/** What the server believes about a request once the trusted proxies in front of it are peeled off. */
export interface RequestPeer {
  /** The client's address: the first untrusted hop, counted from the server. */
  address: string;
  /** Scheme and host the browser used, when a trusted proxy said so; else what this server saw. */
  proto: 'http' | 'https';
  host: string | undefined;
  /** True when the socket's peer is a trusted proxy (its forwarded proto/host were used). */
  viaTrustedProxy: boolean;
}

/** `(address, hop)` → may that hop's forwarded headers be believed? Hop 0 is the socket's peer. */
export type TrustPredicate = (address: string, hop: number) => boolean;

const NAMED_RANGES: Record<string, readonly [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']],
  linklocal: [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']],
  uniquelocal: [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6']],
};

/** Turns the option into a predicate; a malformed value throws a RangeError naming the bad entry. */
export function compileTrust(trust: TrustProxy): TrustPredicate {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) throw new RangeError('realtime server: trustProxy as a hop count must be an integer >= 0');
    return (_, hop) => hop < trust;
  }
  if (!Array.isArray(trust)) throw new RangeError('realtime server: trustProxy must be true, false, a hop count or a list of proxy addresses');
  const list = new BlockList();
  for (const entry of trust) {
    const named = typeof entry === 'string' ? NAMED_RANGES[entry] : undefined;
    if (named) {
      for (const [net, prefix, family] of named) list.addSubnet(net, prefix, family);
      continue;
    }
    const [ip, prefix, ...rest] = typeof entry === 'string' ? entry.split('/') : [];
    const family = ip === undefined ? 0 : isIP(ip);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || rest.length > 0 || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= maxBits))) {
      throw new RangeError(`realtime server: trustProxy entry ${JSON.stringify(entry)} is not an IP address, a CIDR range or loopback/linklocal/uniquelocal`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip!, type);
    else list.addSubnet(ip!, bits, type);
  }
  return (address) => {
    const ip = plainAddress(address);
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) is `127.0.0.1`. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The peer of a request: forwarded headers believed only as far as `trusted` allows. */
export function requestPeer(req: IncomingMessage, trusted: TrustPredicate): RequestPeer {
  const socketAddress = plainAddress(req.socket.remoteAddress ?? '');
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  const own: RequestPeer = { address: socketAddress, proto: secure ? 'https' : 'http', host: req.headers.host, viaTrustedProxy: false };
  if (!trusted(socketAddress, 0)) return own;

  const forwarded = parseForwarded(req.headers.forwarded);
  // Hops from the server outwards: the socket's peer, then what each proxy said its own peer was.
  const hops = [socketAddress, ...(forwarded ? forwarded.for : listHeader(req.headers['x-forwarded-for'])).reverse()];
  let i = 0;
  while (i < hops.length - 1 && trusted(hops[i]!, i)) i++;
  // The outermost proxy's view of scheme and host is the browser's (the first value: proxies append).
  const proto = (forwarded ? forwarded.proto : listHeader(req.headers['x-forwarded-proto'])[0])?.toLowerCase();
  const host = forwarded ? forwarded.host : listHeader(req.headers['x-forwarded-host'])[0];
  return {
    address: hops[i]!,
    proto: proto === 'https' || proto === 'http' ? proto : own.proto,
    host: host ?? own.host,
    viaTrustedProxy: true,
  };
}

function listHeader(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * RFC 7239 `Forwarded: for=…;proto=…;host=…, for=…`: every element's `for` (addresses with ports and brackets
 * stripped), and `proto`/`host` of the first element. Undefined when the header is absent or names no `for`.
 */
function parseForwarded(value: string | string[] | undefined): { for: string[]; proto?: string; host?: string } | undefined {
  const elements = listHeader(value);
  if (elements.length === 0) return undefined;
  const result: { for: string[]; proto?: string; host?: string } = { for: [] };
  elements.forEach((element, index) => {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const key = pair.slice(0, eq).trim().toLowerCase();
      const val = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'for') result.for.push(forwardedNode(val));
      else if (index === 0 && key === 'proto') result.proto = val;
      else if (index === 0 && key === 'host') result.host = val;
    }
  });
  return result.for.length > 0 ? result : undefined;
}

/** `"[2001:db8::1]:4711"` → `2001:db8::1`; `192.0.2.43:80` → `192.0.2.43`; `unknown`, `_hidden` stay as they are. */
function forwardedNode(node: string): string {
  if (node.startsWith('[')) return node.slice(1, node.indexOf(']') > 0 ? node.indexOf(']') : undefined);
  const colon = node.indexOf(':');
  return colon >= 0 && node.indexOf(':', colon + 1) < 0 ? node.slice(0, colon) : node;
}
