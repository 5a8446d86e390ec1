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
  -- cursor "<hscan cursor>" or "<hscan cursor>.<last id given>". HSCAN's COUNT is only a hint (a small hash comes
  -- back whole), so a batch longer than the page is handed out over several pages, in id order, each page asking
  -- HSCAN for the same cursor again. Ids are compared, not positions: a batch asked for again need not come back the
  -- same. When the hash grew in between (a rehash, e.g. finishing right after Redis loaded its AOF), the cursor
  -- covers only part of the old batch and the rest comes at the cursors after it; by position, a page could skip
  -- tickets. (The tickets and sold hashes only grow while a performance is in Redis.)
  local scan_cursor, after = string.match(cursor, '^(%d+)%.(.+)$')
  if not scan_cursor then scan_cursor = string.match(cursor, '^(%d+)$') or '0' end
  local page = redis.call('HSCAN', k_scan, scan_cursor, 'COUNT', limit)
  local batch = {}
  for j = 1, #page[2], 2 do
    local id = page[2][j]
    if after == nil or id > after then batch[#batch + 1] = id end
  end
  if #batch > limit then
    table.sort(batch)
    for j = 1, limit do ids[j] = batch[j] end
    next_cursor = scan_cursor .. '.' .. ids[limit]
  else
    ids = batch
    if page[1] ~= '0' then next_cursor = page[1] end
  end
end
local out = {1, next_cursor}
append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, ids)
return out
