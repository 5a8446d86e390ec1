-- includes/lock_all.lua: lock_all: locks tickets for a transaction (lock keys, holds index, available index).
-- Includes mget (BATCH) and avail_remove (avail_remove_many).
--- @include "avail_remove"
--- @include "mget"

-- Locks every ticket of ids (records recs) for txid until expires (ms, as a string: int_str): lock key with the
-- same expiry, into the holds index, and out of the available index unless holders[i] == txid (a ticket still
-- locked by txid is not in the available index; nil holders = take every ticket out).
local function lock_all(k_avail, k_holds, lock_prefix, ids, recs, txid, expires, holders)
  local leaving, holds = {}, {}
  for i, tid in ipairs(ids) do
    redis.call('SET', lock_prefix .. tid, txid, 'PXAT', expires)
    if not holders or holders[i] ~= txid then leaving[#leaving + 1] = {tid, recs[i]} end
    holds[#holds + 1] = expires
    holds[#holds + 1] = tid
  end
  avail_remove_many(k_avail, leaving)
  for from = 1, #holds, BATCH do
    redis.call('ZADD', k_holds, unpack(holds, from, math.min(#holds, from + BATCH - 1)))
  end
end
