-- mark_outbox.lua: put a performance in the order writers' set of active outboxes, before a sale may be appended to
-- its outbox (src/redis/active-outboxes.ts).
-- KEYS[1] active: the active-outboxes zset (performance id -> Redis time ms of its latest mark)
-- ARGV[1] performance_id: the performance
-- Returns {1, now}: the mark's time (Redis ms). A mark only moves forward (ZADD GT): an older one arriving late does
-- not make the performance look idle for longer than it is.
--- @include "includes/time"
local now, now_s = now_ms()
redis.call('ZADD', KEYS[1], 'GT', now_s, ARGV[1])
return {1, now}
