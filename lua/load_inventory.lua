-- load_inventory.lua: add tickets to a performance or update unsold ones (upsert); sold tickets never change.
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- ARGV[1] settings: performance settings as JSON: {code?, name?, starts_at?, ends_at?, ends_ms?, hold_seconds?,
--         max_tickets_per_transaction?} (code is written only when the performance has none yet; ends_ms: its end
--         in ms, see includes/closed.lua)
-- ARGV[2..] tickets: 7 values per ticket, in seat order: id, relative ord, price cents ('' = keep/0), section, row,
--         seat, price_level ('' = keep the current value, or empty for a new ticket)
-- Returns {1, added, updated, skipped_sold, then each ticket's record as now stored, in ARGV order (a sold
-- ticket's unchanged one)} or {-30, ord_limit} when the performance would exceed 2^22 tickets; {-70} when the
-- performance is closed (nothing written).
--- @include "includes/avail_add"
--- @include "includes/avail_query"
--- @include "includes/avail_remove"
--- @include "includes/closed"
--- @include "includes/record"
--- @include "includes/time"
local k_perf, k_tickets, k_avail, k_holds, k_sold = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local settings = cjson.decode(ARGV[1])
local now = now_ms()
local state = redis.call('HMGET', k_perf, 'closed_at', 'ends_ms')
if closed(state[1], state[2], now) then return {-70} end

-- Ords are spent on new tickets only: their relative ords shifted so the first new one gets next_ord, plus a gap
-- of 2 so the next batch never looks adjacent to this one. Refuse before writing anything.
local next_ord = tonumber(redis.call('HGET', k_perf, 'next_ord') or 0)
local first_rel, last_rel = nil, nil
for i = 2, #ARGV, 7 do
  if redis.call('HEXISTS', k_tickets, ARGV[i]) == 0 then
    first_rel = first_rel or tonumber(ARGV[i + 1])
    last_rel = tonumber(ARGV[i + 1])
  end
end
local used = 0
if first_rel then used = last_rel - first_rel + 2 end
if next_ord + used > ORD_SPAN then return {-30, ORD_SPAN} end

if redis.call('EXISTS', k_perf) == 0 then redis.call('HSET', k_perf, 'created_at', now) end
redis.call('HSET', k_perf, 'next_ord', next_ord + used)
if settings.code then redis.call('HSETNX', k_perf, 'code', settings.code) end
for _, field in ipairs({'name', 'starts_at', 'ends_at', 'ends_ms', 'hold_seconds', 'max_tickets_per_transaction'}) do
  if settings[field] ~= nil then redis.call('HSET', k_perf, field, settings[field]) end
end
redis.call('HSET', k_perf, 'updated_at', now)


local added, updated, skipped = 0, 0, 0
local records, leaving, entering = {}, {}, {}
for i = 2, #ARGV, 7 do
  local tid = ARGV[i]
  if redis.call('HEXISTS', k_sold, tid) == 1 then
    skipped = skipped + 1
    records[#records + 1] = redis.call('HGET', k_tickets, tid)
  else
    local old = redis.call('HGET', k_tickets, tid)
    local f
    if old then f = split_record(old) else f = {tostring(next_ord + tonumber(ARGV[i + 1]) - first_rel), '0', '', '', '', ''} end
    for j = 2, 6 do
      local v = ARGV[i + j]
      if v ~= '' then f[j] = v end
    end
    local rec = table.concat(f, '|')
    records[#records + 1] = rec
    redis.call('HSET', k_tickets, tid, rec)
    if old then
      updated = updated + 1
      -- keep a free ticket's place in the available index in step with its (maybe new) price and partition
      if avail_has(k_avail, tid, old) then
        leaving[#leaving + 1] = {tid, old}
        entering[#entering + 1] = {tid, rec}
      end
    else
      added = added + 1
      entering[#entering + 1] = {tid, rec}
    end
  end
end
avail_remove_many(k_avail, leaving)
avail_add_many(k_avail, entering)
local out = {1, added, updated, skipped}
for _, rec in ipairs(records) do out[#out + 1] = rec end
return out
