-- list_tickets.lua: one page of a performance's tickets, optionally of one state (gives expired holds back first).
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- Lock keys are derived from KEYS[1] (lock_prefix_of in includes/keys.lua): the same hash tag, so the same slot.
-- ARGV[1] state: 'available' | 'locked' | 'sold' | '' (all)
-- ARGV[2] limit: page size (a page holds at most this many)
-- ARGV[3] cursor: '' = first page; otherwise the next_cursor of the previous page
-- Returns {-2} unknown performance; else {1, next_cursor ('' = last page), then 5 values per ticket:
-- id, record, sold, holder transaction id, lock expiry ms (see ticket_state)}
--- @include "includes/keys"
--- @include "includes/partition_page"
--- @include "includes/partitions"
--- @include "includes/reclaim"
--- @include "includes/ticket_states"
--- @include "includes/time"
local k_perf, k_tickets, k_avail, k_holds, k_sold = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local lock_prefix = lock_prefix_of(k_perf)
if redis.call('EXISTS', k_perf) == 0 then return {-2} end
reclaim(k_holds, k_avail, k_tickets, k_sold, select(2, now_ms()))
local state, limit, cursor = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ids, next_cursor = {}, ''
if state == 'available' then
  local after = nil -- kept a string: Lua prints numbers with 14 digits, scores need up to 16
  if tonumber(cursor) then after = cursor end
  -- the next `limit` by score over every partition: the first `limit` of each, merged
  local merged = {}
  for _, part in ipairs(partitions(k_avail, '', '', '')) do
    local page = partition_page(k_avail, part.name, after, limit)
    for i = 1, #page, 2 do merged[#merged + 1] = {page[i], tonumber(page[i + 1]), page[i + 1]} end
  end
  table.sort(merged, function(a, b) return a[2] < b[2] end)
  for i = 1, math.min(limit, #merged) do ids[i] = merged[i][1] end
  if #ids == limit then next_cursor = merged[limit][3] end
elseif state == 'locked' then
  local offset = tonumber(cursor) or 0
  ids = redis.call('ZRANGE', k_holds, offset, offset + limit - 1)
  if #ids == limit then next_cursor = tostring(offset + limit) end
else
  local k_scan = k_tickets
  if state == 'sold' then k_scan = k_sold end
  -- cursor "<hscan cursor>.<entries of that HSCAN batch already given>": HSCAN's COUNT is only a hint (a small
  -- hash comes back whole), so a batch longer than the page is handed out over several pages.
  local scan_cursor, skip = string.match(cursor, '^(%d+)%.?(%d*)$')
  if not scan_cursor then scan_cursor, skip = '0', '' end
  skip = tonumber(skip) or 0
  local page = redis.call('HSCAN', k_scan, scan_cursor, 'COUNT', limit)
  local batch = #page[2] / 2
  for j = skip + 1, math.min(batch, skip + limit) do ids[#ids + 1] = page[2][2 * j - 1] end
  if skip + limit < batch then
    next_cursor = scan_cursor .. '.' .. (skip + limit)
  elseif page[1] ~= '0' then
    next_cursor = page[1]
  end
end
local out = {1, next_cursor}
append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, ids)
return out
