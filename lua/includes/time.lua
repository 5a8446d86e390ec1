-- includes/time.lua: now_ms: the Redis clock in milliseconds.
-- Needs no other include.

-- Milliseconds from the Redis clock, so every API replica agrees on time: the number, and the same as a string
-- (cut from TIME's digits, no number formatting; see int_str).
local function now_ms()
  local t = redis.call('TIME')
  local ms = t[1] .. string.sub('00000' .. t[2], -6, -4)
  return tonumber(ms), ms
end
