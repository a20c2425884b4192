/**
 * Bodies to `POST E/send`, with a live session (a polling handshake first, or one an earlier input opened) and
 * without: batches from frames.ts, binary garbage, bodies over the limit, odd content types, chunked bodies, and a
 * Content-Length that lies.
 */
import type { Family } from './family';
import { batchText } from './frames';
import { clip, fuzzAddress } from './rand';
import { http, pollHandshake, post, rawExchange, type Outcome, type Welcome } from './wire';

export const sendBody: Family = {
  name: 'send-body',
  weight: 3,
  make(r, ctx) {
    const addr = fuzzAddress(r);
    const t = ctx.target;
    const session = r.pick(['new', 'new', 'known', 'none', 'forged'] as const);
    const kind = r.int(0, 9);
    const text = kind < 6 ? batchText(r, r.int(1, 3), 40) : '';
    const garbage = kind === 6 ? r.bytes(r.size(20_000)) : null;
    const huge = kind === 7 ? r.size(6 << 20) : 0; // maxFrame × 4 is 4 MiB
    const contentType = r.pick(['text/plain', 'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']);
    const known = ctx.fuzzSessions.length > 0 ? r.pick(ctx.fuzzSessions) : null;
    const posts = r.chance(0.3) ? r.int(2, 6) : 1;
    const describe =
      `from ${addr}, session ${session}: POST ${t.path}/send (${contentType || 'no type'}) ×${posts} ` +
      (kind < 6 ? clip(text) : kind === 6 ? `${garbage!.length} random bytes` : kind === 7 ? `${huge} bytes of "[["` : kind === 8 ? 'Content-Length 100, 10 sent' : 'chunked, slow');
    return {
      describe,
      async run(): Promise<Outcome> {
        let w: Welcome | null = null;
        if (session === 'new') {
          w = await pollHandshake(t, addr);
          if (w) ctx.remember(w);
        } else if (session === 'known') w = known;
        else if (session === 'forged') w = { sid: known?.sid ?? 'no-such-session', secret: 'forged', cid: known?.cid ?? 'x' };
        const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
        let outcome: Outcome = 'no-answer';
        for (let i = 0; i < posts; i++) {
          if (kind < 6) outcome = (await post(t, addr, w, text, headers)).outcome;
          else if (kind === 6) outcome = (await post(t, addr, w, garbage!, headers)).outcome;
          else if (kind === 7) outcome = (await post(t, addr, w, Buffer.alloc(huge, '['), headers)).outcome;
          else {
            const q = w ? `v=1&sid=${encodeURIComponent(w.sid)}&cid=${encodeURIComponent(w.cid)}` : 'v=1';
            const head = `POST ${t.path}/send?${q} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Realtime-Secret: ${w?.secret ?? ''}\r\n`;
            outcome =
              kind === 8
                ? (await rawExchange(t, addr, [`${head}Content-Length: 100\r\n\r\n[{"t":"ech`], 600)).outcome
                : (await rawExchange(t, addr, [`${head}Transfer-Encoding: chunked\r\n\r\n5\r\n[{"t"`, { pauseMs: 300 }, '4\r\n:"ec\r\n', { pauseMs: 300 }, '0\r\n\r\n'], 400)).outcome;
          }
        }
        // A session left open with a poll that is never made again: abandoned, as most attackers leave them.
        if (w && session === 'new' && r.chance(0.2)) await http(t, addr, { path: `${t.path}/poll?v=1&sid=${w.sid}&cid=${w.cid}`, headers: { 'X-Realtime-Secret': w.secret }, readMs: 50 });
        return outcome;
      },
    };
  },
};
