-- includes/tx_reply.lua: tx_reply: a transaction reply read back from Redis.
-- Includes tx (read_tx, tx_reply_head), ticket_states (append_ticket_states) and split.
--- @include "split"
--- @include "ticket_states"
--- @include "tx"

-- The reply read back from Redis (for a transaction this script did not just write).
local function tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now, tx)
  tx = tx or read_tx(k_tx)
  local out = tx_reply_head(tx, now)
  append_ticket_states(out, k_tickets, k_sold, k_holds, lock_prefix, split(tx[9], ','))
  return out
end
