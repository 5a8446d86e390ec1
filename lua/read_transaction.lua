-- read_transaction.lua: a transaction and the live state of its tickets (reads only).
-- KEYS[1] tickets: the tickets hash
-- KEYS[2] holds: the holds zset
-- KEYS[3] sold: the sold hash
-- KEYS[4] transaction: the transaction hash
-- Lock keys are derived from KEYS[1] (lock_prefix_of in includes/keys.lua): the same hash tag, so the same slot.
-- ARGV[1] client: the caller's client name
-- ARGV[2] admin: '1' when the caller is an admin
-- Returns a transaction reply (see tx_reply); {-10} not found or another client's, or its performance is gone
-- (archived) while the record lives on.
--- @include "includes/keys"
--- @include "includes/time"
--- @include "includes/tx"
--- @include "includes/tx_reply"
local k_tickets, k_holds, k_sold, k_tx = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local lock_prefix = lock_prefix_of(k_tickets)
if redis.call('EXISTS', k_tickets) == 0 then return {-10} end
local tx = read_tx(k_tx)
if not may_access(tx[2], ARGV[1], ARGV[2]) then return {-10} end
return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now_ms(), tx)
