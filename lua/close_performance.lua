-- close_performance.lua: close a performance (admin): from now on it takes no new holds and no inventory, and a
-- transaction whose lock lapsed can no longer be checked out or completed (see includes/closed.lua); one whose lock
-- is live still can, until it lapses. Closing again changes nothing (the first close's time is kept).
-- KEYS[1] performance: the performance hash
-- Returns {0} when the performance does not exist, else {1, closed_at: the close's Redis time (ms)}.
--- @include "includes/time"
local k_perf = KEYS[1]
if redis.call('EXISTS', k_perf) == 0 then return {0} end
local _, now_s = now_ms()
if redis.call('HSETNX', k_perf, 'closed_at', now_s) == 1 then redis.call('HSET', k_perf, 'updated_at', now_s) end
return {1, redis.call('HGET', k_perf, 'closed_at')}
