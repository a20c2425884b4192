import { LuaScript } from './lua-script';

// The Lua run by StreamBus: one round trip each, atomic.

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
