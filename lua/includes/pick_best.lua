-- includes/pick_best.lua: heads_in_order and pick_best: best available tickets from the available index (see
-- avail.lua). Includes partition_page and int_str; uses ORD_SPAN, CHUNK.
--- @include "int_str"
--- @include "partition_page"

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
