-- includes/tx_load.lua: load_tx and expire_tx: a transaction loaded for checkout, complete or release, and ended
-- when a lapsed lock's tickets were taken. Includes tx (read_tx, may_access) and split.
--- @include "split"
--- @include "tx"

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
