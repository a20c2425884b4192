/**
 * Sequences of valid-looking requests that abuse the protocol's state: a polling session that is never polled while
 * its POSTs make the server queue answers (echoes, big replies); polls that are never read; many abandoned
 * sessions; a room named after another session's id; probes and resumes of sessions that are not the caller's.
 */
import type { Context, Family, Input } from './family';
import { clip, fuzzAddress, type Rand } from './rand';
import { framesOf, http, openWs, pollHandshake, post, rawExchange, sleep, wsSend, type Outcome, type Welcome } from './wire';

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

/** Handshake over polling, then never poll: only POSTs, whose answers the server must keep for a poll that never comes. */
function unpolledFlood(r: Rand, ctx: Context, addr: string): Input {
  const posts = r.int(3, 30);
  const perPost = r.size(2000);
  const what = r.pick(['echo', 'echo', 'bigReply', 'say'] as const);
  const pad = what === 'bigReply' ? r.size(900_000) : 0;
  return {
    describe: `from ${addr}: poll handshake, never poll; ${posts} POSTs of ${what === 'bigReply' ? `1 echo request of ${pad} chars` : `${perPost} ${what} frames`}`,
    async run() {
      const w = await pollHandshake(ctx.target, addr);
      if (!w) return 'no-answer';
      let seq = 1;
      let outcome: Outcome = 'no-answer';
      for (let i = 0; i < posts; i++) {
        let frames: object[];
        if (what === 'echo') frames = Array.from({ length: perPost }, (_, k) => ({ t: 'echo', n: k }));
        else if (what === 'say') frames = Array.from({ length: Math.min(perPost, 200) }, () => ({ t: 'emit', seq: seq++, e: 'say', d: { room: w.sid, text: 'x' } }));
        else frames = [{ t: 'req', seq: seq++, e: 'echo', d: 'p'.repeat(pad) }];
        outcome = (await post(ctx.target, addr, w, JSON.stringify(frames))).outcome;
      }
      return outcome;
    },
  };
}

/** Polls that are never read: the request is written, the socket stops reading, or goes away, or polls overlap. */
function unreadPolls(r: Rand, ctx: Context, addr: string): Input {
  const n = r.int(2, 20);
  return {
    describe: `from ${addr}: poll handshake, then ${n} overlapping polls written raw and never read`,
    async run() {
      const w = await pollHandshake(ctx.target, addr);
      if (!w) return 'no-answer';
      const line = `GET ${ctx.target.path}/poll?v=1&sid=${encodeURIComponent(w.sid)}&cid=${encodeURIComponent(w.cid)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Realtime-Secret: ${w.secret}\r\nX-Realtime-Last: 0\r\n\r\n`;
      const outcomes = await Promise.all(Array.from({ length: n }, (_, k) => sleep(k * 5).then(() => rawExchange(ctx.target, addr, [line], r.int(0, 300)))));
      return outcomes[outcomes.length - 1]!.outcome;
    },
  };
}

/** Many sessions opened and dropped at once, over every transport: what the grace period keeps. */
function abandoned(r: Rand, ctx: Context, addr: string): Input {
  const n = r.int(5, 60);
  const over = r.pick(['poll', 'sse', 'ws', 'mixed'] as const);
  const sameAddress = r.chance(0.5);
  return {
    describe: `from ${sameAddress ? addr : 'many addresses in 127.77/16'}: ${n} ${over} handshakes, all dropped`,
    async run() {
      const outcomes = await Promise.all(
        Array.from({ length: n }, async (_, k): Promise<Outcome> => {
          const from = sameAddress ? addr : fuzzAddress(r);
          const kind = over === 'mixed' ? (['poll', 'sse', 'ws'] as const)[k % 3]! : over;
          if (kind === 'ws') {
            const { outcome, socket } = await openWs(ctx.target, from, 'v=1', [], 1000);
            socket.ws.terminate();
            return outcome;
          }
          const a = await http(ctx.target, from, { path: `${ctx.target.path}/${kind}?v=1`, readMs: 150 });
          const w = framesOf(a.body).find((f) => f.t === 'welcome');
          if (w && k === 0) ctx.remember({ sid: String(w.sid), secret: String(w.secret), cid: String(w.cid) });
          return a.outcome;
        }),
      );
      return outcomes.find((o) => o !== 200 && o !== 'ws-open') ?? outcomes[0]!;
    },
  };
}

/** A fuzz session joins a room named after another session's id (a good client's, or a fuzz one's) and talks to it. */
function roomNamedAfterSession(r: Rand, ctx: Context, addr: string): Input {
  const victims = [...ctx.goodSids(), ...ctx.fuzzSessions.map((w) => w.sid)];
  const room = victims.length > 0 ? r.pick(victims) : 'lobby';
  const says = r.int(1, 50);
  return {
    describe: `from ${addr}: WebSocket session joins room "${clip(room, 40)}" (another session's id) and says ${says} times to it`,
    async run() {
      const { outcome, socket } = await openWs(ctx.target, addr, 'v=1');
      wsSend(socket, JSON.stringify({ t: 'req', seq: 1, e: 'join', d: room }));
      for (let k = 0; k < says; k++) wsSend(socket, JSON.stringify({ t: 'emit', seq: 2 + k, e: 'say', d: { room, text: `to ${room}` } }));
      await sleep(r.int(50, 400));
      socket.ws.terminate();
      return outcome;
    },
  };
}

/** Probes and resumes of sessions that are not ours: right id with no or a wrong secret, `upgrade` with odd `last`. */
function foreignProbe(r: Rand, ctx: Context, addr: string): Input {
  const good = ctx.goodSids();
  const own = ctx.fuzzSessions.length > 0 ? r.pick(ctx.fuzzSessions) : null;
  const useGood = good.length > 0 && (own === null || r.chance(0.5));
  const target: Welcome = useGood ? { sid: r.pick(good), secret: r.pick(['', 'guess', 'A'.repeat(32)]), cid: 'x' } : (own ?? { sid: 'none', secret: '', cid: 'x' });
  const probe = r.chance(0.6);
  const transport = probe ? 'ws' : r.pick(['ws', 'sse', 'poll'] as const);
  const last = r.pick(['0', '1', '999999', '9007199254740991']);
  const upgradeLast = r.pick([0, 1, -1, 1e9, 'x']);
  return {
    describe: `from ${addr}: ${probe ? 'probe' : 'resume'} over ${transport} of ${useGood ? "a good client's" : 'a fuzz'} session (sid ${clip(target.sid, 30)}, secret ${clip(target.secret, 12)}), last=${last}${probe ? `, then upgrade{last:${upgradeLast}}` : ''}`,
    async run() {
      const q = `v=1&sid=${encodeURIComponent(target.sid)}&last=${last}${probe ? '&probe=1' : ''}`;
      if (transport === 'ws') {
        const protocols = ['realtime-fallback.v1', `realtime-fallback.p.${b64(JSON.stringify({ secret: target.secret }))}`];
        const { outcome, socket } = await openWs(ctx.target, addr, q, protocols);
        wsSend(socket, JSON.stringify({ t: 'upgrade', last: upgradeLast }));
        await sleep(r.int(50, 300));
        socket.ws.terminate();
        return outcome;
      }
      const a = await http(ctx.target, addr, { path: `${ctx.target.path}/${transport}?${q}`, headers: { 'X-Realtime-Secret': target.secret }, readMs: 200 });
      return a.outcome;
    },
  };
}

const MAKERS = [unpolledFlood, unreadPolls, abandoned, roomNamedAfterSession, foreignProbe];

export const sequences: Family = {
  name: 'sequences',
  weight: 2,
  make: (r, ctx) => r.pick(MAKERS)(r, ctx, fuzzAddress(r)),
};
