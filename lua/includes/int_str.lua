-- includes/int_str.lua: int_str: an integer as a string, every digit.
-- Needs no other include.

-- An integer as a string, every digit. Why: a Lua number handed to redis.call or joined to a string is printed
-- with %.17g / %.14g, which costs about 1 µs per number on our machines; %d costs well under half of that. The
-- scripts pass integers (expiry times, scores) to Redis through this, formatted once.
local function int_str(n)
  return string.format('%d', n)
end
