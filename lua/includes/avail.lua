-- includes/avail.lua: the available index (described below) and where a ticket sits in it: slot_of,
-- group_by_chunk. avail_add.lua and avail_remove.lua change the index; avail_query.lua, partitions.lua,
-- partition_page.lua and pick_best.lua read it. Includes record (split_record, ORD_SPAN, CHUNK) and int_str.
--- @include "int_str"
--- @include "record"

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
-- grow with the number of partitions (see pick_best.lua).

-- Where a ticket record sits in the available index: {part, section, level, chunk, score} (chunk as a string).
local function slot_of(rec)
  local f = split_record(rec)
  local ord, price = tonumber(f[1]), tonumber(f[2])
  return {part = f[3] .. '|' .. f[6] .. '|' .. f[2], section = f[3], level = f[6],
    chunk = int_str(math.floor(ord / CHUNK)), score = price * ORD_SPAN + ord}
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
