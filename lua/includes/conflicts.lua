-- includes/conflicts.lua: conflicts: which tickets cannot be locked for a transaction (sold, or locked by another).
-- Includes mget (mget_many).
--- @include "mget"

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
