// The two limiters people write in Lua for Redis, run with EVALSHA (one
// round trip, atomic: Redis runs one script at a time). Shared by the Node
// side of benchmarks/redis.mjs (redis-benchmark, the exactness check) and the
// Deno limiter of the rate-limit function (limiter.ts).
//
// Both take KEYS[1] = the key of (user, endpoint) and ARGV = limit,
// window in ms, cost, read the clock of the Redis server (TIME), and return
// {allowed 0|1, remaining, reset after ms, retry after ms or -1}.

/**
 * Fixed window: one counter per window (INCRBY, expiring at the window's
 * end). A burst at a window boundary passes up to twice the limit, and a
 * denied call counts too. The window's counter key is derived in the script,
 * which is fine on one server (Redis Cluster would want it in KEYS).
 */
export const fixedWindowLua = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = now - now % window
local reset = start + window - now
local key = KEYS[1] .. ':' .. start
local n = redis.call('INCRBY', key, cost)
if n == cost then redis.call('PEXPIRE', key, reset) end
if n > limit then return {0, 0, reset, reset} end
return {1, limit - n, reset, -1}
`;

/**
 * GCRA (what check_rate_limit computes, over one window): the key holds the
 * theoretical arrival time (TAT) in ms; a call of cost c fits when
 * TAT + c * window / limit - now <= window. Floating point, to about a
 * microsecond (Lua numbers are doubles).
 */
export const gcraLua = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = window / limit
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + cost * interval
local over = new_tat - now - window
if over > 0.001 then
  return {0, math.floor((window - (tat - now)) / interval + 1e-9), math.ceil(tat - now), math.ceil(over)}
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
return {1, math.floor((window - (new_tat - now)) / interval + 1e-9), math.ceil(new_tat - now), -1}
`;
