-- restore_inventory.lua: rebuild a performance's Redis state from the document store (tixlock rehydrate).
-- Keeps what Redis knows that the store may not yet: a ticket Redis has as sold or locked stays so.
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- Lock keys are derived from KEYS[1] (lock_prefix_of in includes/keys.lua): the same hash tag, so the same slot.
-- ARGV[1] performance: the performance as JSON: {code, next_ord, order_seq, name?, starts_at?, ends_at?, ends_ms?,
--         hold_seconds?, max_tickets_per_transaction?, closed_at_ms?}; next_ord and order_seq only ever raise the
--         stored values, a close is kept (closed_at written when there is none)
-- ARGV[2..] tickets: 3 values per ticket: id, record ("ord|price|section|row|seat|price_level"),
--         sold value ('order_number|transaction_id', or '' when the store has it unsold)
-- Returns {1, tickets restored, of which sold}
--- @include "includes/avail_add"
--- @include "includes/avail_query"
--- @include "includes/avail_remove"
--- @include "includes/keys"
--- @include "includes/time"
local k_perf, k_tickets, k_avail, k_holds, k_sold = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local lock_prefix = lock_prefix_of(k_perf)
local p = cjson.decode(ARGV[1])
local now = now_ms()
redis.call('HSETNX', k_perf, 'created_at', now)
redis.call('HSETNX', k_perf, 'code', p.code)
for _, field in ipairs({'name', 'starts_at', 'ends_at', 'ends_ms', 'hold_seconds', 'max_tickets_per_transaction'}) do
  if p[field] ~= nil then redis.call('HSET', k_perf, field, p[field]) end
end
if p.closed_at_ms ~= nil then redis.call('HSETNX', k_perf, 'closed_at', p.closed_at_ms) end
for _, field in ipairs({'next_ord', 'order_seq'}) do
  local current = tonumber(redis.call('HGET', k_perf, field) or 0)
  if tonumber(p[field]) > current then redis.call('HSET', k_perf, field, p[field]) end
end
redis.call('HSET', k_perf, 'updated_at', now)

local restored, sold = 0, 0
local leaving, entering = {}, {}
for i = 2, #ARGV, 3 do
  local tid, rec, sold_value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  -- a ticket already in the index under its old record leaves it first (its price or place may have changed)
  local old = redis.call('HGET', k_tickets, tid)
  if old and old ~= rec and avail_has(k_avail, tid, old) then leaving[#leaving + 1] = {tid, old} end
  redis.call('HSET', k_tickets, tid, rec)
  restored = restored + 1
  if sold_value ~= '' then
    redis.call('HSET', k_sold, tid, sold_value)
    leaving[#leaving + 1] = {tid, rec}
    redis.call('ZREM', k_holds, tid)
    sold = sold + 1
  elseif redis.call('HEXISTS', k_sold, tid) == 0 and redis.call('EXISTS', lock_prefix .. tid) == 0 then
    entering[#entering + 1] = {tid, rec}
  end
end
avail_remove_many(k_avail, leaving)
avail_add_many(k_avail, entering)
return {1, restored, sold}
