-- includes/reclaim.lua: reclaim: gives expired holds back to the available index.
-- Includes mget (mget_many) and avail_add (avail_add_many).
--- @include "avail_add"
--- @include "mget"

-- Gives the tickets whose hold expired (expiry < now; Redis keeps a key alive while now <= expiry) back to the
-- available index; now_s: Redis ms as a string (now_ms). Cost: the number of holds that expired since the last call.
local function reclaim(k_holds, k_avail, k_tickets, k_sold, now_s)
  local expired = redis.call('ZRANGEBYSCORE', k_holds, '-inf', '(' .. now_s)
  if #expired == 0 then return end
  local sold = mget_many(k_sold, '', expired)
  local recs = mget_many(k_tickets, '', expired)
  local back = {}
  for i, tid in ipairs(expired) do
    if not sold[i] and recs[i] then back[#back + 1] = {tid, recs[i]} end
  end
  avail_add_many(k_avail, back)
  redis.call('ZREMRANGEBYSCORE', k_holds, '-inf', '(' .. now_s)
end
