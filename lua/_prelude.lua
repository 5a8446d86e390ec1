-- _prelude.lua: helpers for the scripts in this folder; src/redis/scripts.ts puts in front of each script the
-- top-level definitions it uses (each with the comment right above it), so keep one definition per `local` line.
-- It is not a script by itself and has no KEYS or ARGV of its own.
--
-- Ticket record (value in the performance's tickets hash): "ord|price|section|row|seat|price_level".
--   ord   : the ticket's place in seat order within its performance (0 .. 2^22-1); ords of seats next to
--           each other in one row differ by exactly 1, other neighbours by 2 or more.
--   price : integer cents (0 .. 2^31-1).
-- Availability score = price * 2^22 + ord: cheapest first, then seat order; adjacent seats of one price have
-- consecutive scores; scores are unique within a performance. Lock expiry times are integer milliseconds of the
-- Redis clock.
--
-- The available index is partitioned by (section, price level, price): within a partition every ticket has one
-- price, so score order is seat order. Each partition is cut into chunks of 128 ords (chunk = floor(ord / 128)),
-- each chunk a small zset that Redis keeps in its compact listpack encoding (zset-max-listpack-entries 128, the
-- default): about 20 bytes per ticket instead of ~130 in one big skiplist zset. Keys (names built here;
-- src/redis/keys.ts documents them):
--   k_avail                      set of partition names "section|price_level|price"
--   k_avail:<partition>          zset of the partition's non-empty chunk numbers (score = chunk number)
--   k_avail:<partition>#<chunk>  zset of the chunk's available ticket ids by score (listpack)
--   k_avail:n                    string: available tickets in all partitions
--   k_avail:h                    zset: every non-empty partition by the score of its cheapest available ticket
--   k_avail:hl:<price_level>     zset: the same, for the partitions of one price level
--   k_avail:s:<section>          set of the non-empty partitions of one section
-- The two "heads" zsets are exact (kept by the same calls that change the index), so best-available reads
-- partitions in the order of their cheapest seat and touches only those it takes tickets from: its cost does not
-- grow with the number of partitions (see pick_best).

-- Keys of a performance derived from another of its keys (src/redis/keys.ts names them all: 'tix:{p:<id>}:<name>'):
-- the last ':'-separated part replaced, so they keep the performance's hash tag and its Redis Cluster slot. Lock
-- key = lock_prefix_of(k) .. ticket id; transaction hash = tx_prefix_of(k) .. transaction id.
local function lock_prefix_of(key)
  return (string.gsub(key, '[^:]+$', 'lock:', 1))
end
local function tx_prefix_of(key)
  return (string.gsub(key, '[^:]+$', 'tx:', 1))
end

local ORD_SPAN = 4194304 -- 2^22
local CHUNK = 128 -- ords per chunk of a partition (at most zset-max-listpack-entries)
local BATCH = 1000 -- most values handed to one redis.call by the *_many helpers (Lua's unpack has a stack limit)

-- Milliseconds from the Redis clock, so every API replica agrees on time: the number, and the same as a string
-- (cut from TIME's digits, no number formatting; see int_str).
local function now_ms()
  local t = redis.call('TIME')
  local ms = t[1] .. string.sub('00000' .. t[2], -6, -4)
  return tonumber(ms), ms
end

-- An integer as a string, every digit. Why: a Lua number handed to redis.call or joined to a string is printed
-- with %.17g / %.14g, which costs about 1 µs per number on our machines; %d costs well under half of that. The
-- scripts pass integers (expiry times, scores) to Redis through this, formatted once.
local function int_str(n)
  return string.format('%d', n)
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

-- Where a ticket record sits in the available index: {part, section, level, chunk, score} (chunk as a string).
local function slot_of(rec)
  local f = split_record(rec)
  local ord, price = tonumber(f[1]), tonumber(f[2])
  return {part = f[3] .. '|' .. f[6] .. '|' .. f[2], section = f[3], level = f[6],
    chunk = int_str(math.floor(ord / CHUNK)), score = price * ORD_SPAN + ord}
end

-- HMGET (or MGET when key is nil: keys = prefix .. id) of any number of ids, BATCH at a time.
local function mget_many(key, prefix, ids)
  local out = {}
  for from = 1, #ids, BATCH do
    local args = {}
    for i = from, math.min(#ids, from + BATCH - 1) do args[#args + 1] = prefix .. ids[i] end
    local got
    if key then got = redis.call('HMGET', key, unpack(args)) else got = redis.call('MGET', unpack(args)) end
    for i = 1, #got do out[from + i - 1] = got[i] end
  end
  return out
end

-- Tickets {{tid, rec}, ...} grouped by the chunk they belong to: list of {key, slot, tids, scores}.
local function group_by_chunk(k_avail, entries)
  local groups, by_key = {}, {}
  for _, e in ipairs(entries) do
    local s = slot_of(e[2])
    local key = k_avail .. ':' .. s.part .. '#' .. s.chunk
    local g = by_key[key]
    if not g then
      g = {key = key, slot = s, tids = {}, scores = {}}
      by_key[key] = g
      groups[#groups + 1] = g
    end
    g.tids[#g.tids + 1] = e[1]
    g.scores[#g.scores + 1] = s.score
  end
  return groups
end

-- Puts tickets {{tid, rec}, ...} into (or back into) the available index; tickets already there are left alone.
-- Calls: one ZADD per chunk, then per partition that gained tickets 4 or 5 (chunk list, partition set, heads).
local function avail_add_many(k_avail, entries)
  if #entries == 0 then return end
  local added, parts, part_list = 0, {}, {}
  for _, g in ipairs(group_by_chunk(k_avail, entries)) do
    local args, min = {}, nil
    for i, tid in ipairs(g.tids) do
      args[#args + 1] = int_str(g.scores[i])
      args[#args + 1] = tid
      if not min or g.scores[i] < min then min = g.scores[i] end
    end
    local n = redis.call('ZADD', g.key, unpack(args))
    if n > 0 then
      added = added + n
      local s = g.slot
      redis.call('ZADD', k_avail .. ':' .. s.part, s.chunk, s.chunk)
      local p = parts[s.part]
      if not p then
        p = {slot = s, min = min}
        parts[s.part] = p
        part_list[#part_list + 1] = p
      elseif min < p.min then
        p.min = min
      end
    end
  end
  if added == 0 then return end
  redis.call('INCRBY', k_avail .. ':n', added)
  for _, p in ipairs(part_list) do
    local s = p.slot
    if redis.call('SADD', k_avail, s.part) == 1 then redis.call('SADD', k_avail .. ':s:' .. s.section, s.part) end
    -- LT: the head only ever moves down here (a ticket already in the index scores no lower than the head)
    local min = int_str(p.min)
    redis.call('ZADD', k_avail .. ':h', 'LT', min, s.part)
    redis.call('ZADD', k_avail .. ':hl:' .. s.level, 'LT', min, s.part)
  end
end

-- Takes tickets {{tid, rec}, ...} out of the available index (those not in it are skipped). An emptied chunk
-- leaves its partition, an emptied partition leaves the partition set, its section's set and the heads; a
-- partition that lost its cheapest ticket gets its new head. Calls: per chunk one ZREM, per partition that lost
-- tickets one ZSCORE (is its head among them?) and an EXISTS per other chunk that lost tickets; when the head
-- went, one read of its chunk and the two head writes (2 more reads when that chunk emptied, 4 writes when the
-- partition did).
local function avail_remove_many(k_avail, entries)
  if #entries == 0 then return end
  local removed, parts, part_list = 0, {}, {}
  for _, g in ipairs(group_by_chunk(k_avail, entries)) do
    local n = redis.call('ZREM', g.key, unpack(g.tids))
    if n > 0 then
      removed = removed + n
      local s = g.slot
      local p = parts[s.part]
      if not p then
        p = {slot = s, scores = {}, chunks = {}}
        parts[s.part] = p
        part_list[#part_list + 1] = p
      end
      for _, score in ipairs(g.scores) do p.scores[score] = true end
      p.chunks[#p.chunks + 1] = g
    end
  end
  if removed == 0 then return end
  redis.call('DECRBY', k_avail .. ':n', removed)
  for _, p in ipairs(part_list) do
    local s = p.slot
    local k_part, k_heads, k_level = k_avail .. ':' .. s.part, k_avail .. ':h', k_avail .. ':hl:' .. s.level
    local head = tonumber(redis.call('ZSCORE', k_heads, s.part))
    local head_chunk, head_key = nil, nil -- the chunk of the head taken here: read below in any case
    if head and p.scores[head] then
      head_chunk = int_str(math.floor((head % ORD_SPAN) / CHUNK))
      head_key = k_part .. '#' .. head_chunk
    end
    for _, g in ipairs(p.chunks) do
      if g.key ~= head_key and redis.call('EXISTS', g.key) == 0 then redis.call('ZREM', k_part, g.slot.chunk) end
    end
    if not head or head_key then
      local cheapest = {}
      if head_key then
        -- the head's chunk is the partition's first: what is left in it holds the new head
        cheapest = redis.call('ZRANGE', head_key, 0, 0, 'WITHSCORES')
        if #cheapest == 0 then redis.call('ZREM', k_part, head_chunk) end
      end
      if #cheapest == 0 then
        local first = redis.call('ZRANGE', k_part, 0, 0)
        if #first > 0 then cheapest = redis.call('ZRANGE', k_part .. '#' .. first[1], 0, 0, 'WITHSCORES') end
      end
      if #cheapest == 0 then
        redis.call('SREM', k_avail, s.part)
        redis.call('SREM', k_avail .. ':s:' .. s.section, s.part)
        redis.call('ZREM', k_heads, s.part)
        redis.call('ZREM', k_level, s.part)
      else
        redis.call('ZADD', k_heads, cheapest[2], s.part)
        redis.call('ZADD', k_level, cheapest[2], s.part)
      end
    end
  end
end

local function avail_has(k_avail, tid, rec)
  local s = slot_of(rec)
  return redis.call('ZSCORE', k_avail .. ':' .. s.part .. '#' .. s.chunk, tid) ~= false
end

-- Available tickets in all partitions.
local function avail_count(k_avail)
  return tonumber(redis.call('GET', k_avail .. ':n') or 0)
end

-- Partitions of k_avail matching the filters ('' = any section / level / price; max_price inclusive):
-- a list of {name, section, level, price}. Reads every partition name: for listings, not for best-available.
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
-- from the first), by score: {id, score, id, score, ...}. Reads the partition's chunks in order, from the one
-- holding `after`, or from first_chunk when the caller knows the partition's first chunk (from its head).
local function partition_page(k_avail, part, after, n, first_chunk)
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
  if first_chunk then
    out = redis.call('ZRANGEBYSCORE', k_part .. '#' .. first_chunk, min, '+inf', 'WITHSCORES', 'LIMIT', 0, n)
    got = #out / 2
    from = first_chunk + 1
  end
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

-- The partitions a best-available query may take from, cheapest seat first, as a function that gives the next
-- {name, score} (nil when there are no more). Unfiltered or by price level: read from the heads zset, 2 at first
-- (a merge usually needs no more), then in pages of 8, only as far as the merge asks. By section: the section's
-- few partitions (its price levels × prices), ordered by their heads here. max_price bounds the head scores (every
-- ticket of a partition has its price).
local function heads_in_order(k_avail, max_price, section, level)
  local max_num, max_score = math.huge, '+inf'
  if tonumber(max_price) then
    max_num = (math.floor(tonumber(max_price)) + 1) * ORD_SPAN - 1
    max_score = int_str(max_num)
  end
  local list, at, offset, size, done = {}, 1, 0, 2, false
  if section ~= '' then
    local names = {}
    for _, name in ipairs(redis.call('SMEMBERS', k_avail .. ':s:' .. section)) do
      if level == '' or string.match(name, '^.-|(.-)|%d+$') == level then names[#names + 1] = name end
    end
    if #names > 0 then
      local scores = redis.call('ZMSCORE', k_avail .. ':h', unpack(names))
      for i, name in ipairs(names) do
        local score = tonumber(scores[i])
        if score and score <= max_num then
          list[#list + 1] = {name = name, score = score}
        end
      end
      table.sort(list, function(a, b) return a.score < b.score end)
    end
    done = true
  end
  local k_heads = k_avail .. ':h'
  if level ~= '' then k_heads = k_avail .. ':hl:' .. level end
  return function()
    if at > #list and not done then
      local page = redis.call('ZRANGEBYSCORE', k_heads, '-inf', max_score, 'WITHSCORES', 'LIMIT', offset, size)
      offset = offset + size
      if #page < 2 * size then done = true end
      size = 8
      list, at = {}, 1
      for i = 1, #page, 2 do list[#list + 1] = {name = page[i], score = tonumber(page[i + 1])} end
    end
    local head = list[at]
    at = at + 1
    return head
  end
end

-- Picks quantity tickets from the available index: the cheapest quantity candidates, or the first run of
-- quantity adjacent seats among the best `window` candidates when it costs no more. Filters: max price
-- (inclusive, '' = any), section and price level ('' = any). Returns the picked ids (fewer than quantity when not
-- enough) and how many matching tickets were seen (exact when fewer than quantity).
--
-- Cost, whatever the number of partitions and however fragmented they are: candidates are merged in score order
-- from the partitions' pages, and a partition is read only when its head (its cheapest seat, exact) is the next
-- candidate, so every partition read gives at least one candidate. The merge stops at the first run of quantity
-- adjacent seats, at `window` candidates, or as soon as the next candidate's price is above the average price of
-- the cheapest quantity (no run from there on could cost no more). Worst case (every candidate from a partition of
-- its own, no run): window partitions read, one chunk read each, plus window / 8 reads of the heads.
local function pick_best(k_avail, quantity, max_price, section, level)
  local window = math.max(64, quantity * 8)
  -- entries of a partition's first read: each costs Redis a score printed and us one parsed, so a few; a partition
  -- read past them is read to the end of the window at once (below)
  local chunk = math.max(4, quantity * 2)
  local next_head = heads_in_order(k_avail, max_price, section, level)
  local pending = next_head()
  local parts = {} -- partitions being merged: name, page (id, score, ...), head (index of its next id), score
  local ids, scores = {}, {}
  local run_start, run, price_bound = 1, nil, nil
  while #ids < window do
    local best = nil
    for _, part in ipairs(parts) do
      if part.score and (not best or part.score < best.score) then best = part end
    end
    local next_score = best and best.score
    if pending and (not next_score or pending.score < next_score) then next_score = pending.score end
    if not next_score then break end
    if price_bound and math.floor(next_score / ORD_SPAN) > price_bound then break end
    if pending and next_score == pending.score then
      -- the next candidate is the head of a partition not read yet: read it (its first chunk is the head's)
      local first_chunk = int_str(math.floor((pending.score % ORD_SPAN) / CHUNK))
      local page = partition_page(k_avail, pending.name, nil, chunk, first_chunk)
      if #page > 0 then parts[#parts + 1] = {name = pending.name, page = page, size = chunk, head = 1, score = tonumber(page[2])} end
      pending = next_head()
    else
      local i = #ids + 1
      ids[i] = best.page[best.head]
      scores[i] = best.score
      if i > 1 and scores[i] ~= scores[i - 1] + 1 then run_start = i end
      if i - run_start + 1 == quantity then
        run = run_start
        break
      end
      if i == quantity then
        local total = 0
        for j = 1, quantity do total = total + math.floor(scores[j] / ORD_SPAN) end
        price_bound = math.floor(total / quantity)
      end
      -- advance this partition: the next entry of its page, or its next page (after the score just taken); a
      -- partition read past its first page (no run in it yet: fragmented) is read to the end of the window at once
      local h = best.head + 2
      if best.page[h] == nil and #best.page == 2 * best.size and #ids < window then
        best.size = window - #ids
        best.page = partition_page(k_avail, best.name, best.page[h - 1], best.size)
        h = 1
      end
      best.head = h
      best.score = best.page[h] and tonumber(best.page[h + 1]) or nil
    end
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

-- Gives the tickets whose hold expired (expiry < now; Redis keeps a key alive while now <= expiry) back to the
-- available index; now_s: Redis ms as a string (now_ms). Cost: the number of holds that expired since the last call.
local function reclaim(k_holds, k_avail, k_tickets, k_sold, now_s)
  local expired = redis.call('ZRANGEBYSCORE', k_holds, '-inf', '(' .. now_s)
  if #expired == 0 then return end
  local sold = mget_many(k_sold, '', expired)
  local recs = mget_many(k_tickets, '', expired)
  local back = {}
  for i, tid in ipairs(expired) do
    if not sold[i] and recs[i] then back[#back + 1] = {tid, recs[i]} end
  end
  avail_add_many(k_avail, back)
  redis.call('ZREMRANGEBYSCORE', k_holds, '-inf', '(' .. now_s)
end

-- Live state of tickets: {tid, rec, sold, holder, expires} 5 values per ticket appended to out (rec '' for an
-- unknown id; sold "order_number|transaction_id" or ''; holder transaction id or ''; expires ms or 0).
-- Calls: 3, and one more when a ticket is locked, for any number of tickets.
local function append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, ids)
  if #ids == 0 then return end
  local recs = mget_many(k_tickets, '', ids)
  local sold = mget_many(k_sold, '', ids)
  local holders = mget_many(nil, lock_prefix, ids)
  local locked = {}
  for i, tid in ipairs(ids) do if holders[i] then locked[#locked + 1] = tid end end
  local expiry = {}
  if #locked > 0 then
    local got = redis.call('ZMSCORE', k_holds, unpack(locked))
    for i, tid in ipairs(locked) do expiry[tid] = tonumber(got[i]) or 0 end
  end
  for i, tid in ipairs(ids) do
    out[#out + 1] = tid
    out[#out + 1] = recs[i] or ''
    out[#out + 1] = sold[i] or ''
    out[#out + 1] = holders[i] or ''
    out[#out + 1] = expiry[tid] or 0
  end
end

-- The fields of a transaction record the scripts read, in this order (tx[1] .. tx[10]).
local TX_FIELDS = {'status', 'client', 'ip', 'created_at', 'lock_expires', 'hold_seconds', 'order_number',
  'performance_id', 'tickets', 'buyer'}
local function read_tx(k_tx)
  return redis.call('HMGET', k_tx, unpack(TX_FIELDS))
end

-- Reply describing a transaction: {1, now, status, client, ip, created_at, lock_expires, hold_seconds,
-- order_number, performance_id, then 5 values per ticket (see append_ticket_states)}; tx as read_tx gives it.
local function tx_reply_head(tx, now)
  return {1, now, tx[1], tx[2], tx[3], tonumber(tx[4]), tonumber(tx[5]), tonumber(tx[6]), tx[7] or '', tx[8]}
end

-- The reply read back from Redis (for a transaction this script did not just write).
local function tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now, tx)
  tx = tx or read_tx(k_tx)
  local out = tx_reply_head(tx, now)
  append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, split(tx[9], ','))
  return out
end

-- The reply of a transaction whose tickets ids (records recs) this script has just locked for it until expires,
-- or sold (sold_value per ticket, holder ''), without reading any of it back.
local function tx_reply_written(tx, now, ids, recs, holder, expires, sold_values)
  local out = tx_reply_head(tx, now)
  for i, tid in ipairs(ids) do
    out[#out + 1] = tid
    out[#out + 1] = recs[i] or ''
    out[#out + 1] = sold_values and sold_values[i] or ''
    out[#out + 1] = holder
    out[#out + 1] = holder ~= '' and expires or 0
  end
  return out
end

-- Who may act on a transaction: its own client, or an admin. Anyone else is told it does not exist.
local function may_access(owner, caller, is_admin)
  if not owner then return false end
  return is_admin == '1' or owner == caller
end

-- Which of ids cannot be locked for transaction txid: {tid, 'sold'|'locked', ...}, and the lock holders read
-- (holders[i]: transaction id or false). Calls: 2 for any number of tickets.
local function conflicts(k_sold, lock_prefix, ids, txid)
  local out = {}
  local sold = mget_many(k_sold, '', ids)
  local holders = mget_many(nil, lock_prefix, ids)
  for i, tid in ipairs(ids) do
    if sold[i] then
      out[#out + 1] = tid; out[#out + 1] = 'sold'
    elseif holders[i] and holders[i] ~= txid then
      out[#out + 1] = tid; out[#out + 1] = 'locked'
    end
  end
  return out, holders
end

-- Locks every ticket of ids (records recs) for txid until expires (ms, as a string: int_str): lock key with the
-- same expiry, into the holds index, and out of the available index unless holders[i] == txid (a ticket still
-- locked by txid is not in the available index; nil holders = take every ticket out).
local function lock_all(k_avail, k_holds, lock_prefix, ids, recs, txid, expires, holders)
  local leaving, holds = {}, {}
  for i, tid in ipairs(ids) do
    redis.call('SET', lock_prefix .. tid, txid, 'PXAT', expires)
    if not holders or holders[i] ~= txid then leaving[#leaving + 1] = {tid, recs[i]} end
    holds[#holds + 1] = expires
    holds[#holds + 1] = tid
  end
  avail_remove_many(k_avail, leaving)
  for from = 1, #holds, BATCH do
    redis.call('ZADD', k_holds, unpack(holds, from, math.min(#holds, from + BATCH - 1)))
  end
end

-- Performance settings that shape a new hold: {hold_seconds, max_tickets, exists} with the given defaults
-- (exists: the performance hash is there; every performance has a code).
local function hold_settings(k_perf, requested_hold, default_hold, default_max)
  local f = redis.call('HMGET', k_perf, 'hold_seconds', 'max_tickets_per_transaction', 'code', 'recovering')
  local hold = tonumber(requested_hold)
  if hold == 0 then hold = tonumber(f[1]) or tonumber(default_hold) end
  -- recovering: the order writer found this performance behind the document store; no hold until rehydrated
  return hold, tonumber(f[2]) or tonumber(default_max), f[3] ~= false, f[4] ~= false
end

-- Per-buyer limit. A buyer's zset (a key of the performance's slot, named by src/redis/keys.ts; its name is kept in
-- the transaction record's `buyer` field) holds the tickets the buyer has locked, by lock expiry (ms); entries
-- past their expiry no longer count.
-- Returns {-40, limit, locked} when `adding` more tickets would take the buyer over limit, else nil (now_s: now_ms's
-- string).
local function buyer_check(k_buyer, limit, adding, now_s)
  limit = tonumber(limit)
  if k_buyer == '' or limit == 0 then return nil end
  redis.call('ZREMRANGEBYSCORE', k_buyer, '-inf', '(' .. now_s)
  local locked = redis.call('ZCARD', k_buyer)
  if locked + adding > limit then return {-40, limit, locked} end
  return nil
end

-- Counts ids as locked by buyer k_buyer ('' or false = no buyer) until expires (ms, a string).
local function buyer_track(k_buyer, ids, expires)
  if not k_buyer or k_buyer == '' then return end
  for _, tid in ipairs(ids) do redis.call('ZADD', k_buyer, expires, tid) end
  local last = redis.call('ZRANGE', k_buyer, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', k_buyer, last[2]) -- the zset goes when its last lock would have
end

-- Buyer k_buyer ('' or false = no buyer) no longer has ids locked (released or sold).
local function buyer_forget(k_buyer, ids)
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
    local tx = read_tx(k_tx)
    if not may_access(tx[2], client, '0') then return {-10} end
    return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now, tx)
  end
  return nil
end

-- Locks ids (records recs, none locked or sold) for txid and writes the transaction record (status open); the
-- record outlives the longest hold. now, now_s: now_ms's two values. k_buyer: the buyer's zset ('' = no buyer
-- given). Returns the reply.
local function open_tx(k_tx, k_avail, k_holds, lock_prefix, txid, perf_id, ids, recs, client, ip, hold, now, now_s, ttl_ms, k_buyer)
  local expires = now + hold * 1000
  local expires_s = int_str(expires)
  lock_all(k_avail, k_holds, lock_prefix, ids, recs, txid, expires_s, nil)
  local fields = {'status', 'open', 'client', client, 'ip', ip, 'created_at', now_s, 'lock_expires', expires_s,
    'hold_seconds', int_str(hold), 'performance_id', perf_id, 'tickets', table.concat(ids, ',')}
  if k_buyer ~= '' then
    fields[#fields + 1] = 'buyer'
    fields[#fields + 1] = k_buyer
  end
  redis.call('HSET', k_tx, unpack(fields))
  redis.call('PEXPIRE', k_tx, ttl_ms)
  buyer_track(k_buyer, ids, expires_s)
  return tx_reply_written({'open', client, ip, now, expires, hold, '', perf_id}, now, ids, recs, txid, expires)
end

-- Loads a transaction for checkout, complete or release. Returns its fields (see read_tx) and ticket ids; or nil
-- and an error reply: {-10} not found (or another client's), {-11} the given ticket list is not the transaction's.
-- tickets_arg: the caller's ticket ids sorted and comma-joined, '' when the caller gave none.
local function load_tx(k_tx, caller, is_admin, tickets_arg)
  local tx = read_tx(k_tx)
  if not may_access(tx[2], caller, is_admin) then return nil, {-10} end
  local ids = split(tx[9], ',')
  if tickets_arg ~= '' then
    local sorted = split(tx[9], ',')
    table.sort(sorted)
    if table.concat(sorted, ',') ~= tickets_arg then return nil, {-11} end
  end
  return tx, ids
end

-- Ends a transaction whose tickets were taken while its lock had lapsed; returns the conflict reply.
local function expire_tx(k_tx, taken, retention_ms)
  redis.call('HSET', k_tx, 'status', 'expired')
  redis.call('PEXPIRE', k_tx, retention_ms)
  table.insert(taken, 1, -1)
  return taken
end
