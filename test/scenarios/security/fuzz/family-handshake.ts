/**
 * Handshake parameters abused on every transport (`v`, `sid`, `secret`, `last` (huge too), join keys, `cid`,
 * probes, the parameters subprotocol), and CORS: odd Origins, preflights asking for any header. SSE streams and held
 * polls are read briefly and dropped, as a careless client would.
 */
import type { Context, Family } from './family';
import { clip, fuzzAddress, type Rand } from './rand';
import { http, openWs, type Outcome } from './wire';

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

function sidOf(r: Rand, ctx: Context): string {
  const known = [...ctx.goodSids(), ...ctx.fuzzSessions.map((w) => w.sid)];
  if (known.length > 0 && r.chance(0.5)) return r.pick(known);
  return r.pick(['', 'x', r.text(r.size(200)), 'A'.repeat(r.size(20_000)), '../../etc', '%00', 'null']);
}

function secretOf(r: Rand, ctx: Context): string {
  const known = ctx.fuzzSessions.map((w) => w.secret);
  if (known.length > 0 && r.chance(0.4)) return r.pick(known);
  return r.pick(['', 'wrong', r.printable(r.size(300)), 's'.repeat(r.size(10_000))]);
}

const LASTS = ['', '0', '-1', '1', '01', '1e3', '9007199254740991', '9007199254740993', '99999999999999999999', 'NaN', ' 1', '1.5', '0x10'];
const lastOf = (r: Rand): string => (r.chance(0.1) ? '9'.repeat(r.size(5000)) : r.pick(LASTS));
const VERSIONS = ['1', '1', '1', '2', '0', '', '01', '1.0', ' 1', '1e0', '%31', 'v1'];
const joinOf = (r: Rand): string =>
  r.pick(['abcdefghijklmnopqrstuv', 'short', 'x'.repeat(65), 'A'.repeat(64), r.printable(r.int(10, 70)), 'good-shared-join-key-123']);

function query(r: Rand, ctx: Context): Record<string, string> {
  const q: Record<string, string> = {};
  if (r.chance(0.9)) q.v = r.pick(VERSIONS);
  if (r.chance(0.5)) q.sid = sidOf(r, ctx);
  if (r.chance(0.3)) q.last = lastOf(r);
  if (r.chance(0.15)) q.secret = secretOf(r, ctx);
  if (r.chance(0.15)) q.cid = r.pick([r.text(16), ...ctx.fuzzSessions.map((w) => w.cid), '']);
  if (r.chance(0.15)) q.probe = r.pick(['1', '0', 'true', '']);
  if (r.chance(0.1)) q.access_token = r.text(r.size(500));
  return q;
}

const qs = (q: Record<string, string>): string => new URLSearchParams(q).toString();

function protocols(r: Rand, ctx: Context): string[] {
  switch (r.int(0, 6)) {
    case 0:
      return [];
    case 1:
      return ['realtime-fallback.v1', `realtime-fallback.p.${b64(JSON.stringify({ secret: secretOf(r, ctx), join: joinOf(r) }))}`];
    case 2:
      return ['realtime-fallback.v1', `realtime-fallback.p.${r.pick(['', '!!!', b64('not json'), b64('[]'), b64('null'), b64('{"secret":5}'), b64(JSON.stringify({ secret: 'x'.repeat(r.size(3000)) }))])}`];
    case 3:
      return ['realtime-fallback.v1', `realtime-fallback.p.${b64(JSON.stringify(r.json(3)))}`];
    case 4:
      return ['chat', 'superchat'];
    case 5:
      return ['realtime-fallback.p.x', 'realtime-fallback.p.y'];
    default:
      return ['realtime-fallback.v1'];
  }
}

function httpHeaders(r: Rand, ctx: Context): Record<string, string> {
  const h: Record<string, string> = {};
  if (r.chance(0.3)) h['X-Realtime-Secret'] = secretOf(r, ctx);
  if (r.chance(0.3)) h['X-Realtime-Join'] = joinOf(r);
  if (r.chance(0.2)) h['X-Realtime-Last'] = lastOf(r);
  if (r.chance(0.1)) h['Last-Event-ID'] = lastOf(r);
  if (r.chance(0.3)) h.Origin = r.pick(['null', 'http://evil.example', 'http://127.0.0.1:1', `http://127.0.0.1:${ctx.target.port}`, r.printable(40), '*']);
  if (r.chance(0.1)) h['Sec-Fetch-Site'] = r.pick(['same-origin', 'cross-site', 'none', r.printable(8)]);
  if (r.chance(0.1)) h.Authorization = r.pick(['Bearer ', 'Bearer x', 'Basic Zm9v', r.printable(200)]);
  if (r.chance(0.1)) h['X-Forwarded-For'] = r.pick(['127.0.0.1', '1.2.3.4, 127.0.0.1', r.printable(40)]);
  return h;
}

export const handshake: Family = {
  name: 'handshake',
  weight: 3,
  make(r, ctx) {
    const addr = fuzzAddress(r);
    const t = ctx.target;
    const q = qs(query(r, ctx));
    const kind = r.pick(['ws', 'sse', 'poll', 'send', 'preflight'] as const);
    if (kind === 'ws') {
      const p = protocols(r, ctx);
      const hold = r.int(0, 800);
      return {
        describe: `from ${addr}: WebSocket ${t.path}/ws?${clip(q)} protocols ${clip(p.join(', '))}, held ${hold} ms`,
        async run(): Promise<Outcome> {
          const { outcome, socket } = await openWs(t, addr, q, p);
          if (socket.welcome) ctx.remember(socket.welcome);
          await new Promise((done) => setTimeout(done, hold));
          socket.ws.terminate();
          return outcome;
        },
      };
    }
    const headers = httpHeaders(r, ctx);
    if (kind === 'preflight') {
      headers.Origin ??= 'http://evil.example';
      headers['Access-Control-Request-Method'] = r.pick(['GET', 'POST', 'PUT', '']);
      headers['Access-Control-Request-Headers'] = r.pick(['x-realtime-secret', 'x-realtime-join, content-type', 'x-forwarded-host', r.printable(r.size(2000)), '']);
    }
    const endpoint = kind === 'preflight' ? r.pick(['/sse', '/poll', '/send', '/ws']) : `/${kind}`;
    const method = kind === 'preflight' ? 'OPTIONS' : kind === 'send' ? 'POST' : r.chance(0.9) ? 'GET' : r.pick(['POST', 'HEAD', 'PUT']);
    if (kind === 'sse' && r.chance(0.7)) headers.Accept = 'text/event-stream';
    const readMs = r.int(50, 600);
    return {
      describe: `from ${addr}: ${method} ${t.path}${endpoint}?${clip(q)} headers ${clip(JSON.stringify(headers))}, read ${readMs} ms`,
      async run(): Promise<Outcome> {
        const a = await http(t, addr, { method, path: `${t.path}${endpoint}?${q}`, headers, body: method === 'POST' ? '[]' : undefined, readMs });
        return a.outcome;
      },
    };
  },
};
