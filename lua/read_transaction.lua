-- read_transaction.lua: a transaction and the live state of its tickets (reads only).
-- KEYS[1] performance hash   KEYS[2] tickets hash   KEYS[3] available index (set of partitions)   KEYS[4] holds zset   KEYS[5] sold hash
-- KEYS[6] transaction hash   KEYS[7] outbox stream
-- (KEYS 1, 3 and 7 unused here) Lock keys are derived from KEYS[2] (lock_prefix_of in _prelude.lua): the same hash
-- tag, so the same slot.
-- ARGV[1] caller's client name   ARGV[2] '1' when the caller is an admin
-- Returns a transaction reply (see tx_reply); {-10} not found or another client's.
local k_tickets, k_holds, k_sold, k_tx = KEYS[2], KEYS[4], KEYS[5], KEYS[6]
local lock_prefix = lock_prefix_of(k_tickets)
local tx = read_tx(k_tx)
if not may_access(tx[2], ARGV[1], ARGV[2]) then return {-10} end
return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now_ms(), tx)
