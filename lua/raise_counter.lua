-- raise_counter.lua: raise a counter to at least a value (rehydrate keeps performance numbers unique).
-- KEYS[1] counter: the counter (a string holding an integer)
-- ARGV[1] minimum: the lowest value the counter may have afterwards
-- Returns {1, the counter's value afterwards}.
local current = tonumber(redis.call('GET', KEYS[1]) or 0)
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], wanted)
  return {1, wanted}
end
return {1, current}
