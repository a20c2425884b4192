import { LuaScript } from './lua-script';

// The Lua run by SessionLog on a session's `state` hash, rooms and inbox (ReplayLog's scripts keep its frames, see
// replay-log-scripts.ts). Each is one round trip and atomic: Redis runs a script to the end before any other command.

/** KEYS state. ARGV secret, ttlMs, auth (JSON), bus position ('' none). → 1 created, 0 the id is taken. */
export const createScript = new LuaScript(
  'create',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'auth', ARGV[3], 'nextId', 0, 'acked', 0, 'accepted', 0, 'bytes', 0,
  'firstId', 1, 'owner', '', 'cid', '', 'ended', '', 'bus', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`,
);

/**
 * KEYS state. ARGV expected, secret, previous ('' none). → 1 written, 0 the current secret is not `expected`
 * (another node resumed the session first), -1 the session is gone or ended. A script only because the write is a
 * compare-and-set: plain HSET could not refuse, and would recreate a hash that expired. The secrets compared were
 * checked in constant time by the node first; Lua's `==` compares interned strings, not bytes.
 */
export const rekeyScript = new LuaScript(
  'rekey',
  `
local f = redis.call('HMGET', KEYS[1], 'secret', 'ended')
if not f[1] or f[2] ~= '' then return -1 end
if f[1] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'secret', ARGV[2], 'prev', ARGV[3])
return 1
`,
);

/** PEXPIRE of the session's keys, shared by the scripts that may refresh the session's lifetime. */
const expireAll = `
local function expireAll(ttl)
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
end
`;

/** KEYS state, out, rooms, inbox, pending. ARGV nodeId, cid, ttlMs or ''. → {previous owner, previous cid}, {} if gone or ended. */
export const setOwnerScript = new LuaScript(
  'setOwner',
  `${expireAll}
local f = redis.call('HMGET', KEYS[1], 'owner', 'cid', 'ended')
if not f[1] or f[3] ~= '' then return {} end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'cid', ARGV[2])
if ARGV[3] ~= '' then expireAll(ARGV[3]) end
return {f[1], f[2]}
`,
);

/**
 * KEYS state, out, rooms, inbox, pending. ARGV ttlMs, bus position or '', cid or ''. → 1, or 0 when the session is gone (nothing is
 * created). The position is recorded only while `cid` (when given) still holds the session.
 */
export const touchScript = new LuaScript(
  'touch',
  `${expireAll}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
expireAll(ARGV[1])
if ARGV[2] ~= '' and (ARGV[3] == '' or redis.call('HGET', KEYS[1], 'cid') == ARGV[3]) then
  redis.call('HSET', KEYS[1], 'bus', ARGV[2])
end
return 1
`,
);

/** KEYS state, rooms. ARGV room. → 1 joined, 0 the session is gone or ended. */
export const joinScript = new LuaScript(
  'join',
  `
if redis.call('HGET', KEYS[1], 'ended') ~= '' then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`,
);

/** KEYS rooms. ARGV room. → 1 if the session was in the room. Works on a gone session too. */
export const leaveScript = new LuaScript(
  'leave',
  `
return redis.call('SREM', KEYS[1], ARGV[1])
`,
);

/**
 * KEYS state, out, rooms, inbox, pending. ARGV reason, keepMs or ''. → 1 ended now, 0 already ended or gone. The state hash stays
 * until its TTL (`keepMs` when given), so a resume can be told `expired` and what the session accepted
 * (`unknown_session` after).
 */
const endSession = `
local function endSession(keepMs)
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  redis.call('HSET', KEYS[1], 'ended', ARGV[1], 'owner', '', 'cid', '', 'bytes', 0)
  if keepMs and keepMs ~= '' then redis.call('PEXPIRE', KEYS[1], keepMs) end
  return 1
end
`;

/** KEYS state, out, rooms, inbox, pending. ARGV reason, keepMs or ''. */
export const endScript = new LuaScript(
  'end',
  `${endSession}
if redis.call('HGET', KEYS[1], 'ended') ~= '' then return 0 end
return endSession(ARGV[2])
`,
);

/**
 * As `end`, only if no connection attached since `cid` (ARGV reason, cid, keepMs or ''): a node whose grace timer ran out ends
 * the session only if nobody took it over meanwhile. → 1 ended here, 0 not (gone, ended, or carried on elsewhere).
 */
export const endIfIdleScript = new LuaScript(
  'endIfIdle',
  `${endSession}
local f = redis.call('HMGET', KEYS[1], 'ended', 'cid')
if not f[1] or f[1] ~= '' or f[2] ~= ARGV[2] then return 0 end
return endSession(ARGV[3])
`,
);

/**
 * KEYS state, inbox. ARGV max entries, then the events' texts. → {outcome, owner node}: 'ok'; 'full' (nothing
 * pushed: the inbox holds as many entries as a replay may); 'gone' (no such session, or it ended).
 */
export const pushScript = new LuaScript(
  'push',
  `
local f = redis.call('HMGET', KEYS[1], 'ended', 'owner')
if not f[1] or f[1] ~= '' then return {'gone', ''} end
if redis.call('LLEN', KEYS[2]) + #ARGV - 1 > tonumber(ARGV[1]) then return {'full', f[2]} end
for i = 2, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return {'ok', f[2]}
`,
);
