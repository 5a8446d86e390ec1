-- includes/buyer_limit.lua: buyer_check and buyer_track: the per-buyer limit, checked and counted when tickets are
-- locked (buyer_forget.lua: when they no longer are). Needs no other include.

-- Per-buyer limit. A buyer's zset (a key of the performance's slot, named by src/redis/keys.ts; its name is kept in
-- the transaction record's `buyer` field) holds the tickets the buyer has locked, by lock expiry (ms); entries
-- past their expiry no longer count.
-- Returns {-40, limit, locked} when `adding` more tickets would take the buyer over limit, else nil (now_s: now_ms's
-- string).
local function buyer_check(k_buyer, limit, adding, now_s)
  limit = tonumber(limit)
  if k_buyer == '' or limit == 0 then return nil end
  redis.call('ZREMRANGEBYSCORE', k_buyer, '-inf', '(' .. now_s)
  local locked = redis.call('ZCARD', k_buyer)
  if locked + adding > limit then return {-40, limit, locked} end
  return nil
end

-- Counts ids as locked by buyer k_buyer ('' or false = no buyer) until expires (ms, a string).
local function buyer_track(k_buyer, ids, expires)
  if not k_buyer or k_buyer == '' then return end
  for _, tid in ipairs(ids) do redis.call('ZADD', k_buyer, expires, tid) end
  local last = redis.call('ZRANGE', k_buyer, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', k_buyer, last[2]) -- the zset goes when its last lock would have
end
