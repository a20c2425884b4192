import { LuaScript } from './lua-script';
import { acceptScript, doneScript, unfinishedScript } from './client-frame-scripts';

// The Lua run by SessionLog. Each is one round trip and atomic: Redis runs a script to the end before any other
// command. State fields are those of SessionLog's `state` hash. Invariant kept by every script: the `out` list
// holds exactly the frames firstId..nextId in order (frame id = firstId + index), so its length is
// nextId - firstId + 1 and `bytes` is the sum of their texts.
// Lua's `#` is a byte length, and the texts arrive as UTF-8, so `bytes` counts UTF-8 bytes like ReplayBuffer does.
// Ids are formatted with %d: Lua 5.1 prints large numbers in exponent form otherwise.

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

/**
 * Lua shared by both appends: `logFrames(texts, id, bytes, firstId)` writes texts numbered from id + 1, then drops the
 * oldest frames (the new ones too if need be, as in ReplayBuffer) while over maxMessages / maxBytes, reading them in
 * chunks of 64 so one script never loads the whole log, and saves the positions. Returns the new firstId.
 */
const logFrames = `
local function logFrames(st, out, texts, id, bytes, firstId, maxMessages, maxBytes)
  for i = 1, #texts do bytes = bytes + #texts[i] end
  -- One RPUSH per thousand frames (unpack's stack bound), not one command per frame.
  for i = 1, #texts, 1000 do redis.call('RPUSH', out, unpack(texts, i, math.min(i + 999, #texts))) end
  id = id + #texts
  while id >= firstId and (id - firstId + 1 > maxMessages or bytes > maxBytes) do
    local oldest = redis.call('LRANGE', out, 0, 63)
    if #oldest == 0 then
      -- Only if the list was lost behind our back: count everything as dropped rather than loop.
      firstId, bytes = id + 1, 0
      break
    end
    local dropped = 0
    for _, text in ipairs(oldest) do
      if id - firstId + 1 <= maxMessages and bytes <= maxBytes then break end
      bytes = bytes - #text
      firstId = firstId + 1
      dropped = dropped + 1
    end
    redis.call('LTRIM', out, dropped, -1)
  end
  redis.call('HSET', st, 'nextId', id, 'bytes', bytes, 'firstId', firstId)
  -- RPUSH made the list if it was missing; it lives and dies with the state hash.
  local ttl = redis.call('PTTL', st)
  if ttl > 0 then redis.call('PEXPIRE', out, ttl) end
  return firstId
end
`;

/**
 * KEYS state, out. ARGV maxMessages, maxBytes, then a prefix and suffix per frame. Numbers the frames here (the
 * next ids) → {first id assigned, firstId after trimming}, or {0, 0} when the session is gone or ended.
 */
export const appendScript = new LuaScript(
  'append',
  `${logFrames}
local f = redis.call('HMGET', KEYS[1], 'nextId', 'bytes', 'firstId', 'ended')
if not f[1] or f[4] ~= '' then return {0, 0} end
local nextId = tonumber(f[1])
local texts = {}
for i = 3, #ARGV, 2 do texts[#texts + 1] = ARGV[i] .. string.format('%d', nextId + #texts + 1) .. ARGV[i + 1] end
local firstId = logFrames(KEYS[1], KEYS[2], texts, nextId, tonumber(f[2]), tonumber(f[3]), tonumber(ARGV[1]), tonumber(ARGV[2]))
return {nextId + 1, firstId}
`,
);

/**
 * Lua for an ack: trims what the client has, up to `id` → acked after it, or -1 when the session is gone. Reading the
 * trimmed frames to subtract their bytes is bounded by the log's own limit.
 */
const ackOne = `
local function ackOne(st, out, id)
  local f = redis.call('HMGET', st, 'nextId', 'acked', 'bytes', 'firstId')
  if not f[1] then return -1 end
  local nextId, acked, bytes, firstId = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
  local upto = math.min(id, nextId)
  if upto <= acked then return acked end
  acked = upto
  if firstId <= acked then
    local n = acked - firstId + 1
    for _, text in ipairs(redis.call('LRANGE', out, 0, n - 1)) do bytes = bytes - #text end
    redis.call('LTRIM', out, n, -1)
    firstId = acked + 1
  end
  redis.call('HSET', st, 'acked', acked, 'bytes', bytes, 'firstId', firstId)
  return acked
end
`;

/**
 * Lua for one session's frames numbered by their owner: 'conflict' when the first id is not nextId + 1 (someone else
 * numbered frames meanwhile), 'not_owner' when `cid` is given and no longer the session's connection, 'gone'; else the
 * frames are logged, the drained inbox entries leave the inbox and the bus position is recorded, all in one step.
 * → {outcome, nextId}.
 */
const appendNumbered = `${logFrames}
local function appendNumbered(st, out, inbox, maxMessages, maxBytes, cid, first, drained, position, texts)
  local f = redis.call('HMGET', st, 'nextId', 'bytes', 'firstId', 'ended', 'cid')
  if not f[1] or f[4] ~= '' then return {'gone', 0} end
  local nextId = tonumber(f[1])
  if cid ~= '' and f[5] ~= cid then return {'not_owner', nextId} end
  if first ~= nextId + 1 then return {'conflict', nextId} end
  logFrames(st, out, texts, nextId, tonumber(f[2]), tonumber(f[3]), maxMessages, maxBytes)
  if drained > 0 then redis.call('LTRIM', inbox, drained, -1) end
  if position ~= '' then redis.call('HSET', st, 'bus', position) end
  return {'ok', nextId + #texts}
end
`;


/**
 * Writes of several sessions at once (what every session of a node wrote in one turn): KEYS state, out, inbox of
 * each write's session. ARGV maxMessages, maxBytes, then JSON `{"t": [[prefix, suffix], …], "w": [write, …]}` (one
 * argument, decoded by Redis's cjson: thousands of small arguments cost more to send than one). A write is
 * `["k", id]` (an ack, as SessionLog.ack) or `["a", cid or '', first id, drained, bus position or '', frames]` (an append,
 * as SessionLog.appendNumbered), each frame either its text or the index of a template (the text is the template's
 * prefix, the frame id and its suffix: a fanned-out event crosses the wire once, not once per session). → per write
 * {outcome, nextId} for an append, {'acked', acked} for an ack.
 */
export const writeManyScript = new LuaScript(
  'writeMany',
  `${appendNumbered}${ackOne}
local maxMessages, maxBytes = tonumber(ARGV[1]), tonumber(ARGV[2])
local body = cjson.decode(ARGV[3])
local templates, results = body.t, {}
for s, w in ipairs(body.w) do
  local st, out, inbox = KEYS[s * 3 - 2], KEYS[s * 3 - 1], KEYS[s * 3]
  if w[1] == 'k' then
    results[s] = {'acked', ackOne(st, out, w[2])}
  else
    local first, texts = w[3], {}
    for i, f in ipairs(w[6]) do
      if type(f) == 'string' then
        texts[i] = f
      else
        local t = templates[f + 1]
        texts[i] = t[1] .. string.format('%d', first + i - 1) .. t[2]
      end
    end
    results[s] = appendNumbered(st, out, inbox, maxMessages, maxBytes, w[2], first, w[4], w[5], texts)
  end
end
return results
`,
);



/**
 * KEYS state, out. ARGV last, count. → {nextId, firstId, id, text, id, text, …} with at most `count` frames after
 * `last`, none when some of them are gone (overrun); {} when the session is gone.
 */
export const readAfterScript = new LuaScript(
  'readAfter',
  `
local f = redis.call('HMGET', KEYS[1], 'nextId', 'firstId')
if not f[1] then return {} end
local res = {tonumber(f[1]), tonumber(f[2])}
local from = tonumber(ARGV[1]) + 1
if from < res[2] then return res end
local start = from - res[2]
for i, text in ipairs(redis.call('LRANGE', KEYS[2], start, start + tonumber(ARGV[2]) - 1)) do
  res[#res + 1] = from + i - 1
  res[#res + 1] = text
end
return res
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

/** KEYS state, out, rooms, inbox, pending. ARGV cid, ttlMs or ''. → 1 cleared, 0 another connection (or none) holds the session. */
export const clearOwnerScript = new LuaScript(
  'clearOwner',
  `${expireAll}
if redis.call('HGET', KEYS[1], 'cid') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'owner', '', 'cid', '')
if ARGV[2] ~= '' then expireAll(ARGV[2]) end
return 1
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

/**
 * KEYS bus stream, bus count. ARGV max length (approximate trim), then the entries' texts. Adds each entry with its
 * count `n` (one more than the last ever added) → the last n. One publisher's entries keep their order.
 */
export const publishScript = new LuaScript(
  'publish',
  `
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
for i = 2, #ARGV do
  n = n + 1
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'm', ARGV[i])
end
redis.call('SET', KEYS[2], n)
return n
`,
);

/** KEYS bus stream, bus count. → {last entry id or '0-0', its n or the count}: where a new reader starts. */
export const busHeadScript = new LuaScript(
  'busHead',
  `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 0 then return {'0-0', tonumber(redis.call('GET', KEYS[2]) or '0')} end
return {last[1][1], tonumber(last[1][2][2])}
`,
);

/** Every script above, for loading them all into Redis up front (`LuaScript.load`). */
export const allScripts: readonly LuaScript[] = [
  createScript,
  rekeyScript,
  appendScript,
  writeManyScript,
  readAfterScript,
  acceptScript,
  doneScript,
  unfinishedScript,
  setOwnerScript,
  clearOwnerScript,
  touchScript,
  joinScript,
  leaveScript,
  endScript,
  endIfIdleScript,
  pushScript,
  publishScript,
  busHeadScript,
];
