-- list_tickets.lua: one page of a performance's tickets, optionally of one state (gives expired holds back first).
-- KEYS[1] performance hash   KEYS[2] tickets hash   KEYS[3] available zset   KEYS[4] holds zset   KEYS[5] sold hash
-- KEYS[6] lock key prefix (a prefix, not a key)
-- ARGV[1] state: 'available' | 'locked' | 'sold' | '' (all)   ARGV[2] page size   ARGV[3] cursor ('' = first page;
-- otherwise the next_cursor of the previous page)
-- Returns {-2} unknown performance; else {1, next_cursor ('' = last page), then 5 values per ticket:
-- id, record, sold, holder transaction id, lock expiry ms (see ticket_state)}
local k_perf, k_tickets, k_avail, k_holds, k_sold, lock_prefix = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('EXISTS', k_perf) == 0 then return {-2} end
reclaim(k_holds, k_avail, k_tickets, k_sold, now_ms())
local state, limit, cursor = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ids, next_cursor = {}, ''
if state == 'available' then
  local min = '-inf'
  if cursor ~= '' then min = '(' .. cursor end
  local page = redis.call('ZRANGEBYSCORE', k_avail, min, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #page, 2 do ids[#ids + 1] = page[i] end
  if #ids == limit then next_cursor = page[#page] end
elseif state == 'locked' then
  local offset = tonumber(cursor) or 0
  ids = redis.call('ZRANGE', k_holds, offset, offset + limit - 1)
  if #ids == limit then next_cursor = tostring(offset + limit) end
else
  local k_scan = k_tickets
  if state == 'sold' then k_scan = k_sold end
  if cursor == '' then cursor = '0' end
  local page = redis.call('HSCAN', k_scan, cursor, 'COUNT', limit)
  for i = 1, #page[2], 2 do ids[#ids + 1] = page[2][i] end
  if page[1] ~= '0' then next_cursor = page[1] end
end
local out = {1, next_cursor}
append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, ids)
return out
