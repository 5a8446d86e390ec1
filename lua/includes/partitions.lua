-- includes/partitions.lua: partitions: the available index's partitions matching filters (see avail.lua).
-- Needs no other include.

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
