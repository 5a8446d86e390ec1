-- includes/avail_query.lua: avail_has and avail_count: is a ticket in the available index, how many are
-- (see avail.lua). Includes avail (slot_of).
--- @include "avail"

local function avail_has(k_avail, tid, rec)
  local s = slot_of(rec)
  return redis.call('ZSCORE', k_avail .. ':' .. s.part .. '#' .. s.chunk, tid) ~= false
end

-- Available tickets in all partitions.
local function avail_count(k_avail)
  return tonumber(redis.call('GET', k_avail .. ':n') or 0)
end
