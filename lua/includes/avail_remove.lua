-- includes/avail_remove.lua: avail_remove_many: takes tickets out of the available index (see avail.lua).
-- Includes avail (group_by_chunk), and int_str; uses ORD_SPAN and CHUNK (see record.lua).
--- @include "avail"
--- @include "int_str"

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
