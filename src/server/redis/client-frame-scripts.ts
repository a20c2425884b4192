import { LuaScript } from './lua-script';

// The Lua of ClientFrameLog: a client frame's acceptance, recorded with the frame until its handler is done. State
// fields are those of SessionLog's `state` hash (`accepted`, `ended`, `cid`, and `pbytes`: the records' bytes).

/**
 * KEYS state, pending. ARGV seq, cid or '', the client frame's record or '', max records, max record bytes. →
 * {outcome, accepted, records dropped}; outcome 'accepted' | 'duplicate' | 'gap' | 'gone', or 'not_owner' when `cid`
 * is given and is no longer the session's connection. A record is kept until its handler is done (`done`), so the
 * next holder can run it if this node dies first; over the bounds the oldest records go (their frames fall back to
 * at most once), the new one always stays.
 */
export const acceptScript = new LuaScript(
  'accept',
  `
local f = redis.call('HMGET', KEYS[1], 'accepted', 'ended', 'cid', 'pbytes')
if not f[1] or f[2] ~= '' then return {'gone', 0, 0} end
local accepted, seq = tonumber(f[1]), tonumber(ARGV[1])
if ARGV[2] ~= '' and f[3] ~= ARGV[2] then return {'not_owner', accepted, 0} end
if seq <= accepted then return {'duplicate', accepted, 0} end
if seq > accepted + 1 then return {'gap', accepted, 0} end
redis.call('HSET', KEYS[1], 'accepted', seq)
if ARGV[3] == '' then return {'accepted', seq, 0} end
local bytes, dropped = tonumber(f[4] or '0') + #ARGV[3], 0
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local maxCount, maxBytes = tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('HLEN', KEYS[2]) > maxCount or bytes > maxBytes then
  -- Only when handlers pile up unfinished: the sort reads at most maxCount + 1 fields.
  local seqs = redis.call('HKEYS', KEYS[2])
  for i = 1, #seqs do seqs[i] = tonumber(seqs[i]) end
  table.sort(seqs)
  local i = 1
  while i < #seqs and (#seqs - i + 1 > maxCount or bytes > maxBytes) do
    local key = string.format('%d', seqs[i])
    bytes = bytes - redis.call('HSTRLEN', KEYS[2], key)
    redis.call('HDEL', KEYS[2], key)
    dropped, i = dropped + 1, i + 1
  end
end
redis.call('HSET', KEYS[1], 'pbytes', bytes)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return {'accepted', seq, dropped}
`,
);

/** KEYS state, pending. ARGV the seqs whose handlers are done. → how many records went (done ones are never run again). */
export const doneScript = new LuaScript(
  'done',
  `
local bytes, n = 0, 0
for i = 1, #ARGV do
  local len = redis.call('HSTRLEN', KEYS[2], ARGV[i])
  if len > 0 then
    bytes, n = bytes + len, n + 1
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
if bytes > 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'pbytes', -bytes) end
return n
`,
);

/** KEYS pending. → {seq, frame, seq, frame, …} (a script so the reply is a flat array under RESP2 and RESP3 alike). */
export const unfinishedScript = new LuaScript(
  'unfinished',
  `
return redis.call('HGETALL', KEYS[1])
`,
);
