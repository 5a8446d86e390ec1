-- retire_outbox.lua: take a performance out of the active-outboxes set once its outbox is drained and no sale
-- can still be appended under its latest mark (src/redis/active-outboxes.ts).
-- KEYS[1] active: the active-outboxes zset (performance id -> Redis time ms of its latest mark)
-- ARGV[1] performance_id: the performance
-- ARGV[2] marked_at: the mark the writer read (ms); a newer mark since then keeps the performance
-- ARGV[3] drained_at: Redis time (ms, on the outbox's node) at which trim_outbox found the outbox empty with
--         nothing pending
-- ARGV[4] idle_ms: how long after the mark the outbox must have been found drained
-- Returns {1} removed; {0} kept (marked again, not idle long enough, or already gone).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return {0} end
if tonumber(ARGV[3]) - tonumber(score) < tonumber(ARGV[4]) then return {0} end
redis.call('ZREM', KEYS[1], ARGV[1])
return {1}
