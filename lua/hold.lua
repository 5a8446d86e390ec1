-- hold.lua: begin a transaction holding the given tickets, all or nothing.
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- KEYS[6] transaction: the transaction hash
-- Lock keys are derived from KEYS[1] (lock_prefix_of in includes/keys.lua): the same hash tag, so the same slot.
-- ARGV[1] transaction_id: the new transaction's id
-- ARGV[2] performance_id: the performance's id
-- ARGV[3] client: the client's name
-- ARGV[4] ip: the client's ip
-- ARGV[5] hold_seconds: requested hold seconds (0 = the performance's, else default_hold_seconds)
-- ARGV[6] default_hold_seconds: hold seconds when neither the request nor the performance says
-- ARGV[7] default_max_tickets: max tickets per transaction when the performance does not say
-- ARGV[8] open_record_ttl_ms: transaction record ttl while open (ms)
-- ARGV[9] buyer: the buyer's zset (a key of this performance's slot; '' = no buyer given)
-- ARGV[10] buyer_max_tickets: tickets a buyer may have locked at once (0 = no limit)
-- ARGV[11] deadline: Redis time ms; a call that runs later does nothing and returns {-50} (0 = none)
-- ARGV[12..] ticket_ids: the ticket ids (distinct)
-- Returns a transaction reply (see tx_reply in includes/tx_reply.lua) on success or when this transaction id already
-- exists for this client (a re-sent command); {-10} it exists for another client; {-2, unknown ids...}; {-1, id, 'sold'|'locked', ...} with nothing locked;
-- {-4, max tickets per transaction}; {-40, buyer limit, tickets the buyer has locked} over the buyer limit;
-- {-50} past the deadline (the caller has given up on this call); {-60} the performance is recovering (its Redis
-- state is behind the document store; the perf hash's `recovering` field) until rehydrated; {-70} the performance is
-- closed (by an admin, or it ended: see includes/closed.lua).
--- @include "includes/begin_tx"
--- @include "includes/buyer_limit"
--- @include "includes/conflicts"
--- @include "includes/keys"
--- @include "includes/mget"
--- @include "includes/time"
local k_perf, k_tickets, k_avail, k_holds, k_sold, k_tx = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local lock_prefix = lock_prefix_of(k_perf)
local txid = ARGV[1]
local now, now_s = now_ms()
local early = begin_early_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, ARGV[3], ARGV[11], now)
if early then return early end

local ids = {}
for i = 12, #ARGV do ids[#ids + 1] = ARGV[i] end
local hold, max_tickets, _, recovering, is_closed = hold_settings(k_perf, ARGV[5], ARGV[6], ARGV[7], now)
if is_closed then return {-70} end
if recovering then return {-60} end
if #ids > max_tickets then return {-4, max_tickets} end

local recs = mget_many(k_tickets, '', ids)
local missing = {-2}
for i, tid in ipairs(ids) do
  if not recs[i] then missing[#missing + 1] = tid end
end
if #missing > 1 then return missing end

local taken = conflicts(k_sold, lock_prefix, ids, txid)
if #taken > 0 then table.insert(taken, 1, -1); return taken end
local over = buyer_check(ARGV[9], ARGV[10], #ids, now_s)
if over then return over end

return open_tx(k_tx, k_avail, k_holds, lock_prefix, txid, ARGV[2], ids, recs, ARGV[3], ARGV[4], hold, now, now_s, ARGV[8], ARGV[9])
