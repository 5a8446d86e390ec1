-- search.lua: the best available tickets of a performance, locking nothing (gives expired holds back first).
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- ARGV[1] quantity: how many tickets
-- ARGV[2] max_price: max price in cents, inclusive ('' = no price limit)
-- ARGV[3] section: the section ('' = any)
-- ARGV[4] price_level: the price level ('' = any)
-- Returns {-2} unknown performance; {-20, available} fewer than quantity match; else {1, id, record, id, record...}
--- @include "includes/pick_best"
--- @include "includes/reclaim"
--- @include "includes/time"
local k_perf, k_tickets, k_avail, k_holds, k_sold = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('EXISTS', k_perf) == 0 then return {-2} end
reclaim(k_holds, k_avail, k_tickets, k_sold, select(2, now_ms()))
local quantity = tonumber(ARGV[1])
local ids, seen = pick_best(k_avail, quantity, ARGV[2], ARGV[3], ARGV[4])
if #ids < quantity then return {-20, seen} end
local recs = redis.call('HMGET', k_tickets, unpack(ids))
local out = {1}
for i, tid in ipairs(ids) do out[#out + 1] = tid; out[#out + 1] = recs[i] end
return out
