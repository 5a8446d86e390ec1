-- performance_info.lua: a performance's settings and live counts (gives expired holds back first).
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- ARGV: none
-- Returns {0} when the performance does not exist, else
--   {1, name, starts_at, hold_seconds, max_tickets_per_transaction, created_at, updated_at, code,
--    total, available, locked, sold, ends_at, ends_ms, closed_at, archiving, now}   (missing settings are '';
--    closed_at: when an admin closed it; archiving: when it was sealed for its archive, see archive_seal.lua)
--- @include "includes/avail_query"
--- @include "includes/reclaim"
--- @include "includes/time"
local k_perf, k_tickets, k_avail, k_holds, k_sold = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('EXISTS', k_perf) == 0 then return {0} end
local _, now_s = now_ms()
reclaim(k_holds, k_avail, k_tickets, k_sold, now_s)
local f = redis.call('HMGET', k_perf, 'name', 'starts_at', 'hold_seconds', 'max_tickets_per_transaction',
  'created_at', 'updated_at', 'code', 'ends_at', 'ends_ms', 'closed_at', 'archiving')
return {1, f[1] or '', f[2] or '', f[3] or '', f[4] or '', f[5] or '', f[6] or '', f[7] or '',
  redis.call('HLEN', k_tickets), avail_count(k_avail), redis.call('ZCARD', k_holds),
  redis.call('HLEN', k_sold), f[8] or '', f[9] or '', f[10] or '', f[11] or '', now_s}
