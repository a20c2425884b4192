import { SessionSecret } from '../session-secret';
import { LuaScript } from './lua-script';
import { replyArray, replyText, type RedisCommands } from './redis-commands';
import type { SessionLog } from './session-log';

/**
 * KEYS state, out, rooms, inbox, pending. ARGV nodeId, cid, ttlMs, the secret read before. → {previous owner, previous
 * cid}; {} when the session is gone or ended; {'rotated'} when its secret changed since it was read.
 */
export const claimScript = new LuaScript(
  'claim',
  `
local f = redis.call('HMGET', KEYS[1], 'owner', 'cid', 'ended', 'secret')
if not f[1] or f[3] ~= '' then return {} end
if f[4] ~= ARGV[4] then return {'rotated'} end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'cid', ARGV[2])
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return {f[1], f[2]}
`,
);

/** Reads of the secret before a claim gives up on a session whose secret keeps changing (the handshake is retried). */
const CLAIM_ATTEMPTS = 3;

export type Claim = { claimed: false } | { claimed: true; previous: { nodeId: string; cid: string } | null };

/**
 * Makes this process the session's holder before it reads the session to restore it, when `presented` is one of its
 * secrets: the holder before it can write no more (its writes are refused and handed over), so what is read is what
 * the restored copy carries on from. A wrong secret claims nothing (the handshake is refused afterwards anyway).
 */
export async function claimSession(redis: RedisCommands, log: SessionLog, sid: string, presented: string, to: { nodeId: string; cid: string; ttlMs: number }): Promise<Claim> {
  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
    const state = await log.load(sid);
    if (!state || state.ended !== null) return { claimed: false };
    if (new SessionSecret({ secret: state.secret, previous: state.previousSecret }).match(presented) === null) return { claimed: false };
    const k = log.keys(sid);
    const args = [to.nodeId, to.cid, String(to.ttlMs), state.secret];
    const reply = replyArray(await claimScript.run(redis, [k.state, k.out, k.rooms, k.inbox, k.pending], args), 'claim');
    if (reply.length === 0) return { claimed: false };
    if (reply.length === 1) continue; // rotated by a resume elsewhere meanwhile: read it again
    const previous = { nodeId: replyText(reply[0], 'claim'), cid: replyText(reply[1], 'claim') };
    return { claimed: true, previous: previous.cid === '' ? null : previous };
  }
  throw new Error(`session ${sid}: its secret changed during ${CLAIM_ATTEMPTS} claims in a row`);
}
