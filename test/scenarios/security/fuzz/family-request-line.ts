/**
 * Malformed request lines and headers over raw TCP: URLs no parser accepts (`GET //[`), absolute forms, huge or odd
 * paths, bad methods and versions, duplicate and oversized headers, bad Content-Length and chunking, and requests
 * that arrive slowly or stop half way (bounded: at most ~1.5 s of pauses).
 */
import type { Family } from './family';
import { clip, fuzzAddress, percentEncode, type Rand } from './rand';
import { rawExchange, type Chunk } from './wire';

const ENDPOINTS = ['/ws', '/sse', '/poll', '/send', '', '/', '/poll/', '/POLL', '/send/..'];

function target(r: Rand, path: string): string {
  const under = `${path}${r.pick(ENDPOINTS)}`;
  switch (r.int(0, 13)) {
    case 0:
      return '//[';
    case 1:
      return `http://[${under}`;
    case 2:
      return `//[${under}?v=1`;
    case 3:
      return `${under}?v=1&%zz=${r.text(4)}`;
    case 4:
      return `${under}/${'a'.repeat(r.size(70_000))}`;
    case 5:
      return `http://127.0.0.1:${r.int(0, 99999)}${under}?v=1`;
    case 6:
      return r.pick(['*', '', ' ', '?', '#', '%', '/%', '/..', '\\', 'http://', 'http://x@[::1', 'ftp://x/']);
    case 7:
      return `${under}?${'v=1&'.repeat(r.size(5000))}`;
    case 8:
      return `${under}?v=1#${r.text(r.size(100))}`;
    case 9:
      return `${path}/${r.text(r.size(200)).replace(/[\s]/g, '')}`;
    case 10:
      return `${under}?v=1&sid=${percentEncode(r.text(r.size(300)))}`;
    case 11:
      return `/%2e%2e${under}`;
    case 12:
      return `${under}?v=1`.replace('/', '//');
    default:
      return `${under}?v=1`;
  }
}

const METHODS = ['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'CONNECT', 'TRACE', 'get', 'G ET', 'GET\t', 'PRI', ''];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1', 'http/1.1', '', 'HTTP/1.1 x', 'HTTP/1.1\r\n'];

function headers(r: Rand, path: string): string[] {
  const h = [`Host: ${r.chance(0.9) ? '127.0.0.1' : r.text(r.size(100))}`];
  for (let i = r.int(0, 4); i > 0; i--) {
    switch (r.int(0, 12)) {
      case 0:
        h.push('Host: other.example');
        break;
      case 1:
        h.push(`X-Big: ${'x'.repeat(r.size(40_000))}`);
        break;
      case 2:
        h.push(`Content-Length: ${r.pick(['-1', 'abc', '1e3', '99999999999999999999', '0, 5', ' 5', '5', '18446744073709551616'])}`);
        break;
      case 3:
        h.push('Content-Length: 3', 'Content-Length: 4');
        break;
      case 4:
        h.push('Transfer-Encoding: chunked', 'Content-Length: 5');
        break;
      case 5:
        h.push(`Transfer-Encoding: ${r.pick(['chunked', 'gzip, chunked', 'chunked, identity', 'xchunked', 'chunked\tx'])}`);
        break;
      case 6:
        h.push(`${r.text(r.int(1, 20))}: ${r.text(r.size(50))}`);
        break;
      case 7:
        h.push(`Origin: ${r.pick(['null', 'http://evil.example', 'http://127.0.0.1', '', r.text(30)])}`);
        break;
      case 8:
        h.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${r.pick(['dGhlIHNhbXBsZSBub25jZQ==', '', r.text(24)])}`, `Sec-WebSocket-Version: ${r.pick(['13', '8', 'x'])}`);
        break;
      case 9:
        h.push(`X-Realtime-Secret: ${r.text(r.size(5000))}`, `X-Realtime-Last: ${r.pick(['-1', '1e400', '9'.repeat(r.size(500)), ''])}`);
        break;
      case 10:
        h.push(`Referer: ${path}`, 'Expect: 100-continue');
        break;
      case 11:
        h.push(...Array.from({ length: r.size(3000) }, (_, k) => `X-H${k}: ${k}`));
        break;
      default:
        h.push('NoColonHere', ' folded: continuation');
    }
  }
  return h;
}

function body(r: Rand): Chunk[] {
  switch (r.int(0, 5)) {
    case 0:
      return [];
    case 1:
      return [`${r.int(0, 40).toString(16)}\r\n${'['.repeat(20)}\r\n0\r\n\r\n`];
    case 2:
      return [`zz\r\n${r.text(10)}\r\n`];
    case 3:
      return [`${'f'.repeat(r.int(1, 20))}\r\n`, r.text(r.size(2000))];
    case 4:
      return [r.bytes(r.size(4000))];
    default:
      return [JSON.stringify([{ t: 'emit', seq: 1, e: 'up', d: 1 }])];
  }
}

export const requestLine: Family = {
  name: 'request-line',
  weight: 3,
  make(r, ctx) {
    const path = ctx.target.path;
    const addr = fuzzAddress(r);
    const line = `${r.pick(METHODS)} ${target(r, path)} ${r.pick(VERSIONS)}`;
    const eol = r.chance(0.9) ? '\r\n' : r.pick(['\n', '\r', '\n\r']);
    const head = `${line}${eol}${headers(r, path).join(eol)}${eol}${eol}`;
    const chunks: Chunk[] = [];
    const slow = r.chance(0.15);
    if (slow) {
      // Slow or stopped half way: the head in a few pieces with pauses, sometimes never finished.
      const cut = r.int(1, Math.max(1, head.length - 1));
      chunks.push(head.slice(0, cut), { pauseMs: r.int(100, 700) });
      if (r.chance(0.6)) chunks.push(head.slice(cut), { pauseMs: r.int(0, 700) });
    } else chunks.push(head);
    chunks.push(...body(r));
    if (r.chance(0.1)) chunks.push(r.bytes(r.size(300))); // and garbage after, as a pipelined "request"
    return {
      describe: `from ${addr}${slow ? ' slowly' : ''}: ${clip(head)} + ${chunks.length - 1} chunk(s)`,
      run: async () => (await rawExchange(ctx.target, addr, chunks, r.int(200, 800))).outcome,
    };
  },
};
