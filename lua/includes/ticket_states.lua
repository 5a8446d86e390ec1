-- includes/ticket_states.lua: append_ticket_states: the live state of tickets (record, sold, holder, expiry).
-- Includes mget (mget_many).
--- @include "mget"

-- Live state of tickets: {tid, rec, sold, holder, expires} 5 values per ticket appended to out (rec '' for an
-- unknown id; sold "order_number|transaction_id" or ''; holder transaction id or ''; expires ms or 0).
-- Calls: 3, and one more when a ticket is locked, for any number of tickets.
local function append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, ids)
  if #ids == 0 then return end
  local recs = mget_many(k_tickets, '', ids)
  local sold = mget_many(k_sold, '', ids)
  local holders = mget_many(nil, lock_prefix, ids)
  local locked = {}
  for i, tid in ipairs(ids) do if holders[i] then locked[#locked + 1] = tid end end
  local expiry = {}
  if #locked > 0 then
    local got = redis.call('ZMSCORE', k_holds, unpack(locked))
    for i, tid in ipairs(locked) do expiry[tid] = tonumber(got[i]) or 0 end
  end
  for i, tid in ipairs(ids) do
    out[#out + 1] = tid
    out[#out + 1] = recs[i] or ''
    out[#out + 1] = sold[i] or ''
    out[#out + 1] = holders[i] or ''
    out[#out + 1] = expiry[tid] or 0
  end
end
