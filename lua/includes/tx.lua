-- includes/tx.lua: the transaction record: TX_FIELDS, read_tx, may_access, and the replies built from what a
-- script holds (tx_reply_head, tx_reply_written). Needs no other include.

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
