-- includes/avail_add.lua: avail_add_many: puts tickets into the available index (see avail.lua).
-- Includes avail (group_by_chunk) and int_str.
--- @include "avail"
--- @include "int_str"

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
