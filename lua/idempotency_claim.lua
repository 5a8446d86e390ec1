-- idempotency_claim.lua: claim an Idempotency-Key for a request, or say who has it (src/redis/idempotency-store.ts).
-- KEYS[1] record: the key's record (a binary string: pending or an answer, see src/redis/idempotency-store.ts)
-- ARGV[1] pending: the pending record to write when the key is free
-- ARGV[2] lease_ms: its lease (ms)
-- ARGV[3] deadline: Redis time ms; a claim that runs later does nothing (0 = none): its caller already answered
--         503, and a claim written now would block the key's retries for a whole lease
-- Returns {1, now} claimed; {0, now, record} someone has it; {-50} past the deadline.
--- @include "includes/time"
local now = now_ms()
local deadline = tonumber(ARGV[3])
if deadline > 0 and now > deadline then return {-50} end
local found = redis.call('GET', KEYS[1])
if found then return {0, now, found} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return {1, now}
