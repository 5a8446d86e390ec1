-- _prelude.lua: helpers prepended to every script in this folder (src/redis/scripts.ts does it).
-- It is not a script by itself and has no KEYS or ARGV of its own.
--
-- Ticket record (value in the performance's tickets hash): "ord|price|section|row|seat|price_level".
--   ord   : the ticket's place in seat order within its performance (0 .. 2^22-1); ords of seats next to
--           each other in one row differ by exactly 1, other neighbours by 2 or more.
--   price : integer cents (0 .. 2^31-1).
-- Availability score = price * 2^22 + ord: cheapest first, then seat order; adjacent seats of one price have
-- consecutive scores. Lock expiry times are integer milliseconds of the Redis clock.
--
-- The available index is partitioned by (section, price level), so a filtered search reads only the partitions it
-- wants and never scans past tickets it does not want: k_avail is a set of partition names "section|price_level",
-- and each partition is a zset named k_avail .. ':' .. name. The number of partitions follows the venue's layout,
-- not the inventory's size.

local ORD_SPAN = 4194304 -- 2^22

-- Milliseconds from the Redis clock, so every API replica agrees on time.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function score_of(rec)
  local ord, price = string.match(rec, '^(%d+)|(%d+)|')
  return tonumber(price) * ORD_SPAN + tonumber(ord)
end

local function split(s, sep)
  local out = {}
  if s == nil or s == '' then return out end
  for part in string.gmatch(s, '([^' .. sep .. ']+)') do out[#out + 1] = part end
  return out
end

-- Fields of a ticket record, empty ones kept: {ord, price, section, row, seat, price_level}.
local function split_record(rec)
  local f = {}
  for part in string.gmatch((rec or '') .. '|', '([^|]*)|') do f[#f + 1] = part end
  return f
end

local function partition_of(rec)
  local f = split_record(rec)
  return f[3] .. '|' .. f[6]
end

-- Puts a ticket into (or back into) the available index.
local function avail_add(k_avail, tid, rec)
  local part = partition_of(rec)
  redis.call('SADD', k_avail, part)
  redis.call('ZADD', k_avail .. ':' .. part, score_of(rec), tid)
end

-- Takes a ticket out of the available index (a no-op when it is not there).
local function avail_remove(k_avail, tid, rec)
  redis.call('ZREM', k_avail .. ':' .. partition_of(rec), tid)
end

-- Available tickets in all partitions.
local function avail_count(k_avail)
  local n = 0
  for _, part in ipairs(redis.call('SMEMBERS', k_avail)) do n = n + redis.call('ZCARD', k_avail .. ':' .. part) end
  return n
end

-- Gives the tickets whose hold expired (expiry < now; Redis keeps a key alive while now <= expiry) back to the
-- available index. Cost: the number of holds that expired since the last call.
local function reclaim(k_holds, k_avail, k_tickets, k_sold, now)
  local expired = redis.call('ZRANGEBYSCORE', k_holds, '-inf', '(' .. now)
  for _, tid in ipairs(expired) do
    if redis.call('HEXISTS', k_sold, tid) == 0 then
      local rec = redis.call('HGET', k_tickets, tid)
      if rec then avail_add(k_avail, tid, rec) end
    end
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', k_holds, '-inf', '(' .. now) end
end

-- Live state of one ticket: record, sold value ("order_number|transaction_id" or ''), lock holder
-- (transaction id or ''), lock expiry ms (0 when not locked).
local function ticket_state(k_tickets, k_sold, k_holds, lock_prefix, tid)
  local rec = redis.call('HGET', k_tickets, tid)
  if not rec then return nil end
  local sold = redis.call('HGET', k_sold, tid) or ''
  local holder = redis.call('GET', lock_prefix .. tid) or ''
  local expires = 0
  if holder ~= '' then expires = tonumber(redis.call('ZSCORE', k_holds, tid) or 0) end
  return rec, sold, holder, expires
end

-- Appends {tid, rec, sold, holder, expires} for each ticket id to out.
local function append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, ids)
  for _, tid in ipairs(ids) do
    local rec, sold, holder, expires = ticket_state(k_tickets, k_sold, k_holds, lock_prefix, tid)
    out[#out + 1] = tid
    out[#out + 1] = rec or ''
    out[#out + 1] = sold or ''
    out[#out + 1] = holder or ''
    out[#out + 1] = expires or 0
  end
end

-- Reply describing a transaction: {1, now, status, client, ip, created_at, lock_expires, hold_seconds,
-- order_number, performance_id, then 5 values per ticket (see append_ticket_states)}.
local function tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now)
  local f = redis.call('HMGET', k_tx, 'status', 'client', 'ip', 'created_at', 'lock_expires', 'hold_seconds',
    'order_number', 'performance_id', 'tickets')
  local out = {1, now, f[1], f[2], f[3], tonumber(f[4]), tonumber(f[5]), tonumber(f[6]), f[7] or '', f[8]}
  append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, split(f[9], ','))
  return out
end

-- Tickets of ids that cannot be locked for transaction txid: {tid, 'sold'|'locked', ...}.
local function conflicts(k_sold, lock_prefix, ids, txid)
  local out = {}
  for _, tid in ipairs(ids) do
    if redis.call('HEXISTS', k_sold, tid) == 1 then
      out[#out + 1] = tid; out[#out + 1] = 'sold'
    else
      local holder = redis.call('GET', lock_prefix .. tid)
      if holder and holder ~= txid then out[#out + 1] = tid; out[#out + 1] = 'locked' end
    end
  end
  return out
end

-- Locks every ticket of ids for txid until expires (ms): lock key with the same expiry, out of the available
-- index, into the holds index.
local function lock_all(k_avail, k_tickets, k_holds, lock_prefix, ids, txid, expires)
  for _, tid in ipairs(ids) do
    redis.call('SET', lock_prefix .. tid, txid, 'PXAT', expires)
    avail_remove(k_avail, tid, redis.call('HGET', k_tickets, tid))
    redis.call('ZADD', k_holds, expires, tid)
  end
end

-- Who may act on a transaction: its own client, or an admin. Anyone else is told it does not exist.
local function may_access(k_tx, caller, is_admin)
  local owner = redis.call('HGET', k_tx, 'client')
  if not owner then return false end
  return is_admin == '1' or owner == caller
end

-- Picks quantity tickets from the available index: the cheapest quantity candidates, or the first run of
-- quantity adjacent seats among the best `window` candidates when it costs no more. Filters: max score
-- (exclusive, or '+inf'), section and price level ('' = any) choose the partitions read. Returns the picked ids
-- (fewer than quantity when not enough) and how many matching tickets were seen (exact when fewer than quantity).
--
-- Cost: each chosen partition is read in pages of `chunk` (window = 4 chunks), sorted by score, and the pages are
-- merged (scores are unique within a performance) until the first run of quantity adjacent seats or `window`
-- candidates: a call reads one page of each partition, then only what the merge takes, and never more than
-- `window` entries of a partition. (Reading `window` entries of every partition and sorting them all with a Lua
-- comparator cost several hundred microseconds of Redis time per call.)
local function pick_best(k_avail, quantity, max_score, section, level)
  local window = math.max(64, quantity * 8)
  local chunk = math.max(16, quantity * 2) -- entries read from a partition at a time
  local parts = {} -- per partition: key, page (id, score, id, score...), head (index of its next id), score of the head
  for _, name in ipairs(redis.call('SMEMBERS', k_avail)) do
    local part_section, part_level = string.match(name, '^(.-)|(.*)$')
    if (section == '' or part_section == section) and (level == '' or part_level == level) then
      local key = k_avail .. ':' .. name
      local page = redis.call('ZRANGEBYSCORE', key, '-inf', max_score, 'WITHSCORES', 'LIMIT', 0, chunk)
      if #page > 0 then parts[#parts + 1] = {key = key, page = page, head = 1, score = tonumber(page[2])} end
    end
  end
  local ids, scores = {}, {}
  local run_start, run = 1, nil
  while #ids < window do
    local best = nil
    for _, part in ipairs(parts) do
      if part.score and (not best or part.score < best.score) then best = part end
    end
    if not best then break end
    local i = #ids + 1
    ids[i] = best.page[best.head]
    scores[i] = best.score
    if i > 1 and scores[i] ~= scores[i - 1] + 1 then run_start = i end
    if i - run_start + 1 == quantity then
      run = run_start
      break
    end
    -- advance this partition: the next entry of its page, or its next page (after the score just taken)
    local h = best.head + 2
    if best.page[h] == nil and #best.page == 2 * chunk and #ids < window then
      best.page = redis.call('ZRANGEBYSCORE', best.key, '(' .. best.page[h - 1], max_score, 'WITHSCORES', 'LIMIT', 0, chunk)
      h = 1
    end
    best.head = h
    best.score = best.page[h] and tonumber(best.page[h + 1]) or nil
  end
  if #ids < quantity then return ids, #ids end
  -- Cheapest first: a run of adjacent seats wins only when it costs no more than the cheapest pick.
  -- Scores ascend, so the first run found is the cheapest run.
  local first = 1
  if run then
    local cheapest_total = 0
    for j = 1, quantity do cheapest_total = cheapest_total + math.floor(scores[j] / ORD_SPAN) end
    if quantity * math.floor(scores[run + quantity - 1] / ORD_SPAN) <= cheapest_total then first = run end
  end
  local out = {}
  for j = first, first + quantity - 1 do out[#out + 1] = ids[j] end
  return out, #ids
end

-- Performance settings that shape a new hold: {hold_seconds, max_tickets} with the given defaults.
local function hold_settings(k_perf, requested_hold, default_hold, default_max)
  local f = redis.call('HMGET', k_perf, 'hold_seconds', 'max_tickets_per_transaction')
  local hold = tonumber(requested_hold)
  if hold == 0 then hold = tonumber(f[1]) or tonumber(default_hold) end
  return hold, tonumber(f[2]) or tonumber(default_max)
end

-- Locks ids for txid and writes the transaction record (status open); the record outlives the longest hold.
local function open_tx(k_tx, k_avail, k_tickets, k_holds, lock_prefix, txid, perf_id, ids, client, ip, hold, now, ttl_ms)
  local expires = now + hold * 1000
  lock_all(k_avail, k_tickets, k_holds, lock_prefix, ids, txid, expires)
  redis.call('HSET', k_tx, 'status', 'open', 'client', client, 'ip', ip, 'created_at', now,
    'lock_expires', expires, 'hold_seconds', hold, 'performance_id', perf_id, 'tickets', table.concat(ids, ','))
  redis.call('PEXPIRE', k_tx, ttl_ms)
end

-- Loads a transaction for checkout, complete or release. Returns status, ticket ids; or nil and an error
-- reply: {-10} not found (or another client's), {-11} the given ticket list is not the transaction's.
-- tickets_arg: the caller's ticket ids sorted and comma-joined, '' when the caller gave none.
local function load_tx(k_tx, caller, is_admin, tickets_arg)
  if not may_access(k_tx, caller, is_admin) then return nil, {-10} end
  local f = redis.call('HMGET', k_tx, 'status', 'tickets')
  local ids = split(f[2], ',')
  if tickets_arg ~= '' then
    local sorted = split(f[2], ',')
    table.sort(sorted)
    if table.concat(sorted, ',') ~= tickets_arg then return nil, {-11} end
  end
  return f[1], ids
end

-- Ends a transaction whose tickets were taken while its lock had lapsed; returns the conflict reply.
local function expire_tx(k_tx, taken, retention_ms)
  redis.call('HSET', k_tx, 'status', 'expired')
  redis.call('PEXPIRE', k_tx, retention_ms)
  table.insert(taken, 1, -1)
  return taken
end
