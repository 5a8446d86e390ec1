-- includes/partition_page.lua: partition_page: a page of a partition of the available index (see avail.lua).
-- Uses ORD_SPAN and CHUNK (see record.lua); needs no include.

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
