-- read_ticket.lua: one ticket's live state and, when locked, who holds it (reads only).
-- KEYS[1] tickets: the tickets hash
-- KEYS[2] sold: the sold hash
-- KEYS[3] holds: the holds zset
-- Lock keys and the holder's transaction hash are derived from KEYS[1] (lock_prefix_of, tx_prefix_of in
-- includes/keys.lua): the same hash tag, so the same slot.
-- ARGV[1] ticket_id: the ticket's id
-- Returns {0} unknown ticket; else {1, record, sold ('order_number|transaction_id' or ''), holder transaction id
-- or '', lock expiry ms or 0, holder's client name or '', holder's ip or ''}
--- @include "includes/keys"
--- @include "includes/ticket_states"
local k_tickets, k_sold, k_holds = KEYS[1], KEYS[2], KEYS[3]
local lock_prefix, tx_prefix = lock_prefix_of(k_tickets), tx_prefix_of(k_tickets)
local state = {}
append_ticket_states(state, k_tickets, k_sold, k_holds, lock_prefix, {ARGV[1]})
local rec, sold, holder, expires = state[2], state[3], state[4], state[5]
if rec == '' then return {0} end
local who = {false, false}
if holder ~= '' then who = redis.call('HMGET', tx_prefix .. holder, 'client', 'ip') end
return {1, rec, sold, holder, expires, who[1] or '', who[2] or ''}
