import { LuaScript } from './lua-script';

// The Lua run by ReplayLog: the `out` list of a session's unacknowledged frames and the positions in its `state`
// hash that describe it (nextId, acked, bytes, firstId). Each is one round trip and atomic. Invariant kept by every
// script: the `out` list holds exactly the frames firstId..nextId in order (frame id = firstId + index), so its length
// is nextId - firstId + 1 and `bytes` is the sum of their texts.
// Lua's `#` is a byte length, and the texts arrive as UTF-8, so `bytes` counts UTF-8 bytes like ReplayBuffer does.
// Ids are formatted with %d: Lua 5.1 prints large numbers in exponent form otherwise.

/**
 * Lua of an append: `logFrames(texts, id, bytes, firstId)` writes texts numbered from id + 1, then drops the
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
 * `["k", id]` (an ack) or `["a", cid or '', first id, drained, bus position or '', frames]` (an append), each frame either its text or the index of a template (the text is the template's
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
