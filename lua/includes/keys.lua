-- includes/keys.lua: lock_prefix_of, tx_prefix_of: keys of a performance derived from another of its keys.
-- Needs no other include.

-- Keys of a performance derived from another of its keys (src/redis/keys.ts names them all: 'tix:{p:<id>}:<name>'):
-- the last ':'-separated part replaced, so they keep the performance's hash tag and its Redis Cluster slot. Lock
-- key = lock_prefix_of(k) .. ticket id; transaction hash = tx_prefix_of(k) .. transaction id.
local function lock_prefix_of(key)
  return (string.gsub(key, '[^:]+$', 'lock:', 1))
end
local function tx_prefix_of(key)
  return (string.gsub(key, '[^:]+$', 'tx:', 1))
end
