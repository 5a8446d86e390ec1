-- includes/mget.lua: BATCH and mget_many: HMGET or MGET of any number of ids.
-- Needs no other include.

local BATCH = 1000 -- most values handed to one redis.call by the *_many helpers (Lua's unpack has a stack limit)

-- HMGET (or MGET when key is nil: keys = prefix .. id) of any number of ids, BATCH at a time.
local function mget_many(key, prefix, ids)
  local out = {}
  for from = 1, #ids, BATCH do
    local args = {}
    for i = from, math.min(#ids, from + BATCH - 1) do args[#args + 1] = prefix .. ids[i] end
    local got
    if key then got = redis.call('HMGET', key, unpack(args)) else got = redis.call('MGET', unpack(args)) end
    for i = 1, #got do out[from + i - 1] = got[i] end
  end
  return out
end
