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
-- The available index is partitioned by (section, price level, price), so a filtered search reads only the
-- partitions it wants and never scans past tickets it does not want; the number of partitions follows the venue's
-- layout, not the inventory's size. Within a partition every ticket has one price, so score order is seat order.
-- Each partition is cut into chunks of 128 ords (chunk = floor(ord / 128)), each chunk a small zset that Redis
-- keeps in its compact listpack encoding (zset-max-listpack-entries 128, the default): about 20 bytes per ticket
-- instead of ~130 in one big skiplist zset. Keys (names built here; src/redis/keys.ts documents them):
--   k_avail                      set of partition names "section|price_level|price"
--   k_avail:<partition>          zset of the partition's non-empty chunk numbers (score = chunk number)
--   k_avail:<partition>#<chunk>  zset of the chunk's available ticket ids by score (listpack)
--   k_avail:n                    string: available tickets in all partitions

local ORD_SPAN = 4194304 -- 2^22
local CHUNK = 128 -- ords per chunk of a partition (at most zset-max-listpack-entries)

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
  return f[3] .. '|' .. f[6] .. '|' .. f[2]
end

local function chunk_key_of(k_avail, rec)
  local part = partition_of(rec)
  local chunk = math.floor(tonumber(string.match(rec, '^(%d+)|')) / CHUNK)
  return k_avail .. ':' .. part .. '#' .. chunk, part, chunk
end

-- Puts a ticket into (or back into) the available index.
local function avail_add(k_avail, tid, rec)
  local k_chunk, part, chunk = chunk_key_of(k_avail, rec)
  if redis.call('ZADD', k_chunk, score_of(rec), tid) == 1 then
    redis.call('INCR', k_avail .. ':n')
    redis.call('ZADD', k_avail .. ':' .. part, chunk, chunk)
    redis.call('SADD', k_avail, part)
  end
end

-- Takes a ticket out of the available index (a no-op when it is not there); an emptied chunk leaves its
-- partition, an emptied partition leaves the set.
local function avail_remove(k_avail, tid, rec)
  local k_chunk, part, chunk = chunk_key_of(k_avail, rec)
  if redis.call('ZREM', k_chunk, tid) == 1 then
    redis.call('DECR', k_avail .. ':n')
    if redis.call('EXISTS', k_chunk) == 0 then
      local k_part = k_avail .. ':' .. part
      redis.call('ZREM', k_part, chunk)
      if redis.call('EXISTS', k_part) == 0 then redis.call('SREM', k_avail, part) end
    end
  end
end

local function avail_has(k_avail, tid, rec)
  return redis.call('ZSCORE', (chunk_key_of(k_avail, rec)), tid) ~= false
end

-- Available tickets in all partitions.
local function avail_count(k_avail)
  return tonumber(redis.call('GET', k_avail .. ':n') or 0)
end

-- Partitions of k_avail matching the filters ('' = any section / level / price; max_price inclusive):
-- a list of {name, section, level, price}.
local function partitions(k_avail, section, level, max_price)
  local out = {}
  local max = tonumber(max_price)
  for _, name in ipairs(redis.call('SMEMBERS', k_avail)) do
    local s, l, p = string.match(name, '^(.-)|(.-)|(%d+)$')
    p = tonumber(p)
    if (section == '' or s == section) and (level == '' or l == level) and (not max or p <= max) then
      out[#out + 1] = {name = name, section = s, level = l, price = p}
    end
  end
  return out
end

-- Up to n available tickets of a partition with score > after (a score as a string, as Redis gave it; nil =
-- from the first), by score: {id, score, id, score, ...}. Reads the partition's chunks in order, from the one holding `after`.
local function partition_page(k_avail, part, after, n)
  local k_part = k_avail .. ':' .. part
  local min, from = '-inf', 0
  if after then
    -- `after` may be a score of another partition (a listing cursor): one of a lower price starts this
    -- partition from its first chunk, one of a higher price leaves nothing to read here
    local price = tonumber(string.match(part, '|(%d+)$'))
    local after_price = math.floor(tonumber(after) / ORD_SPAN)
    if after_price > price then return {} end
    if after_price == price then
      min = '(' .. after
      from = math.floor((tonumber(after) % ORD_SPAN) / CHUNK)
    end
  end
  local out, got = nil, 0 -- got: entries (id + score pairs) in out
  while got < n do
    local chunks = redis.call('ZRANGEBYSCORE', k_part, from, '+inf', 'LIMIT', 0, 4)
    if #chunks == 0 then break end
    for _, chunk in ipairs(chunks) do
      local page = redis.call('ZRANGEBYSCORE', k_part .. '#' .. chunk, min, '+inf', 'WITHSCORES', 'LIMIT', 0, n - got)
      if out == nil then
        out = page -- the usual case: the first chunk fills the page, nothing to copy
      else
        for i = 1, #page do out[2 * got + i] = page[i] end
      end
      got = got + #page / 2
      if got >= n then break end
    end
    from = tonumber(chunks[#chunks]) + 1
  end
  return out or {}
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
-- quantity adjacent seats among the best `window` candidates when it costs no more. Filters: max price
-- (inclusive, '' = any), section and price level ('' = any) choose the partitions read. Returns the picked ids
-- (fewer than quantity when not enough) and how many matching tickets were seen (exact when fewer than quantity).
--
-- Cost: each chosen partition is read in pages of `chunk` (window = 4 chunks), sorted by score, and the pages are
-- merged (scores are unique within a performance) until the first run of quantity adjacent seats or `window`
-- candidates: a call reads one page of each partition, then only what the merge takes, and never more than
-- `window` entries of a partition. (Reading `window` entries of every partition and sorting them all with a Lua
-- comparator cost several hundred microseconds of Redis time per call.)
local function pick_best(k_avail, quantity, max_price, section, level)
  local window = math.max(64, quantity * 8)
  local chunk = math.max(16, quantity * 2) -- entries read from a partition at a time
  local parts = {} -- per partition: name, page (id, score, id, score...), head (index of its next id), score of the head
  for _, p in ipairs(partitions(k_avail, section, level, max_price)) do
    local page = partition_page(k_avail, p.name, nil, chunk)
    if #page > 0 then parts[#parts + 1] = {name = p.name, page = page, head = 1, score = tonumber(page[2])} end
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
      best.page = partition_page(k_avail, best.name, best.page[h - 1], chunk)
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

-- Per-buyer limit. A buyer's zset (a key of the performance's slot, named by src/redis/keys.ts; its name is kept in
-- the transaction record's `buyer` field) holds the tickets the buyer has locked, by lock expiry (ms); entries
-- past their expiry no longer count.
-- Returns {-40, limit, locked} when `adding` more tickets would take the buyer over limit, else nil.
local function buyer_check(k_buyer, limit, adding, now)
  limit = tonumber(limit)
  if k_buyer == '' or limit == 0 then return nil end
  redis.call('ZREMRANGEBYSCORE', k_buyer, '-inf', '(' .. now)
  local locked = redis.call('ZCARD', k_buyer)
  if locked + adding > limit then return {-40, limit, locked} end
  return nil
end

-- Counts ids as locked by the transaction's buyer until expires (nothing when the transaction has no buyer).
local function buyer_track(k_tx, ids, expires)
  local k_buyer = redis.call('HGET', k_tx, 'buyer')
  if not k_buyer or k_buyer == '' then return end
  for _, tid in ipairs(ids) do redis.call('ZADD', k_buyer, expires, tid) end
  local last = redis.call('ZRANGE', k_buyer, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', k_buyer, last[2]) -- the zset goes when its last lock would have
end

-- The transaction's buyer no longer has ids locked (released or sold).
local function buyer_forget(k_tx, ids)
  local k_buyer = redis.call('HGET', k_tx, 'buyer')
  if not k_buyer or k_buyer == '' or #ids == 0 then return end
  redis.call('ZREM', k_buyer, unpack(ids))
end

-- The answer a hold or best-available hold gives before doing anything, or nil: {-50} when it runs past its
-- deadline (Redis ms, 0 = none; its caller has given up and answered 503); the existing transaction again when
-- this id exists (a re-sent command, or a retry with the same Idempotency-Key), but only to the client that began it
-- ({-10} to anyone else).
local function begin_early_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, client, deadline, now)
  deadline = tonumber(deadline)
  if deadline > 0 and now > deadline then return {-50} end
  if redis.call('EXISTS', k_tx) == 1 then
    if not may_access(k_tx, client, '0') then return {-10} end
    return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now)
  end
  return nil
end

-- Locks ids for txid and writes the transaction record (status open); the record outlives the longest hold.
-- k_buyer: the buyer's zset ('' = no buyer given).
local function open_tx(k_tx, k_avail, k_tickets, k_holds, lock_prefix, txid, perf_id, ids, client, ip, hold, now, ttl_ms, k_buyer)
  local expires = now + hold * 1000
  lock_all(k_avail, k_tickets, k_holds, lock_prefix, ids, txid, expires)
  redis.call('HSET', k_tx, 'status', 'open', 'client', client, 'ip', ip, 'created_at', now,
    'lock_expires', expires, 'hold_seconds', hold, 'performance_id', perf_id, 'tickets', table.concat(ids, ','))
  redis.call('PEXPIRE', k_tx, ttl_ms)
  if k_buyer ~= '' then
    redis.call('HSET', k_tx, 'buyer', k_buyer)
    buyer_track(k_tx, ids, expires)
  end
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
