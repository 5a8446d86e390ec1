-- complete.lua: sell every ticket of a transaction, allocate its order number and append the sale to the
-- performance's outbox stream, in one step. A lapsed lock is fine when every ticket is still free.
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- KEYS[6] transaction: the transaction hash
-- KEYS[7] outbox: the outbox stream
-- Lock keys are derived from KEYS[1] (lock_prefix_of in includes/keys.lua): the same hash tag, so the same slot.
-- ARGV[1] transaction_id: the transaction's id
-- ARGV[2] client: the caller's client name
-- ARGV[3] admin: '1' when the caller is an admin
-- ARGV[4] ticket_ids: the caller's ticket ids sorted and comma-joined ('' = not given)
-- ARGV[5] retention_ms: record retention (ms)
-- ARGV[6] customer: the customer as JSON ('' = none)
-- ARGV[7] payment_reference: the payment reference ('' = none)
-- ARGV[8] min_order_sequence: the document store's highest order sequence for this performance (0 = not
--         checked): the sale is numbered above it; when the performance's own sequence is below it, Redis forgot
--         sales the store has: the performance is marked recovering and {-60} returned, nothing sold
-- ARGV[9] deadline: Redis time ms after which this call does nothing and returns {-50}: its performance's mark in
--         the active-outboxes set covers the sale only until then (src/redis/active-outboxes.ts; 0 = none)
-- Returns a transaction reply (see tx_reply), the same order again when already complete (the record's retention
-- restarted: a write, so WAIT after a repeat covers the sale); {-10} not found; {-50} past the deadline, nothing
-- done; {-11} ticket list mismatch; {-12, status} released or expired; {-1, id, 'sold'|'locked', ...} a lapsed
-- lock's tickets were taken (the transaction is now expired); {-60} the performance is recovering (see hold.lua);
-- {-70} the performance is closed and the lock lapsed (a closed performance sells only under a live lock, so once its
-- last lock lapsed nothing can be sold: includes/closed.lua); {-10} also when the performance is gone (archived).
-- Outbox entry: the fields of SALE_ENTRY_FIELDS in src/writer/sale-entry.ts, in that order (the writer parses it).
-- Order number: 5 characters of performance code + at least 5 of the performance's order sequence, from an
-- alphabet without look-alike characters (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U): ORDER_ALPHABET, put in front of this
-- script from src/domain/order-number.ts (see SHARED_CONSTANTS in src/redis/scripts.ts), which reads the numbers back.
--- @include "includes/avail_remove"
--- @include "includes/buyer_forget"
--- @include "includes/closed"
--- @include "includes/conflicts"
--- @include "includes/keys"
--- @include "includes/mget"
--- @include "includes/record"
--- @include "includes/time"
--- @include "includes/tx"
--- @include "includes/tx_load"
--- @include "includes/tx_reply"
local k_perf, k_tickets, k_avail, k_holds, k_sold, k_tx, k_outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local lock_prefix = lock_prefix_of(k_perf)
local txid = ARGV[1]
local now, now_s = now_ms()
local deadline = tonumber(ARGV[9])
if deadline > 0 and now > deadline then return {-50} end
local tx, ids = load_tx(k_tx, ARGV[2], ARGV[3], ARGV[4])
if not tx then return ids end
local status = tx[1]
if status == 'complete' then
  -- a repeat writes too (the record's retention starts again), so a WAIT after it covers the original sale
  redis.call('PEXPIRE', k_tx, ARGV[5])
  return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now, tx)
end
if status ~= 'open' and status ~= 'checkout' then return {-12, status} end
-- a performance behind the document store sells nothing until rehydrated: its tickets may be sold there already
local perf = redis.call('HMGET', k_perf, 'code', 'recovering', 'order_seq', 'closed_at', 'ends_ms')
if not perf[1] then return {-10} end
if perf[2] then return {-60} end
if closed(perf[4], perf[5], now) and now > tonumber(tx[5]) then return {-70} end
local stored_seq = tonumber(ARGV[8])
if tonumber(perf[3] or 0) < stored_seq then
  redis.call('HSET', k_perf, 'recovering', 'order sequence ' .. (perf[3] or 0) .. ' behind the store (' .. ARGV[8] .. ') at a complete')
  return {-60}
end

local taken, holders = conflicts(k_sold, lock_prefix, ids, txid)
if #taken > 0 then return expire_tx(k_tx, taken, tonumber(ARGV[5])) end

local function encode(n, width)
  local s = ''
  repeat
    local d = n % #ORDER_ALPHABET
    s = string.sub(ORDER_ALPHABET, d + 1, d + 1) .. s
    n = math.floor(n / #ORDER_ALPHABET)
  until n == 0
  while #s < width do s = string.sub(ORDER_ALPHABET, 1, 1) .. s end
  return s
end
local code = tonumber(perf[1])
local seq = redis.call('HINCRBY', k_perf, 'order_seq', 1)
local order_number = encode(code, 5) .. encode(seq, 5)

local sold_value = order_number .. '|' .. txid
local recs = mget_many(k_tickets, '', ids)
local sale_tickets, total, sold_args, sold_values, lock_keys, lapsed = {}, 0, {}, {}, {}, {}
for i, tid in ipairs(ids) do
  local f = split_record(recs[i])
  local price = tonumber(f[2])
  total = total + price
  sale_tickets[i] = {id = tid, price = price, section = f[3], row = f[4], seat = f[5], price_level = f[6]}
  sold_args[#sold_args + 1] = tid
  sold_args[#sold_args + 1] = sold_value
  sold_values[i] = sold_value
  lock_keys[i] = lock_prefix .. tid
  -- a ticket still locked by this transaction is not in the available index; one whose lock lapsed may be
  if holders[i] ~= txid then lapsed[#lapsed + 1] = {tid, recs[i]} end
end
redis.call('HSET', k_sold, unpack(sold_args))
redis.call('DEL', unpack(lock_keys))
redis.call('ZREM', k_holds, unpack(ids))
avail_remove_many(k_avail, lapsed)
buyer_forget(tx[10], ids)
redis.call('HSET', k_tx, 'status', 'complete', 'order_number', order_number, 'completed_at', now_s,
  'customer', ARGV[6], 'payment_reference', ARGV[7])
redis.call('PEXPIRE', k_tx, ARGV[5])
redis.call('XADD', k_outbox, '*', 'order_number', order_number, 'transaction_id', txid,
  'performance_id', tx[8], 'client', tx[2], 'ip', tx[3], 'completed_at', now_s,
  'tickets', cjson.encode(sale_tickets), 'total', total, 'customer', ARGV[6], 'payment_reference', ARGV[7])
tx[1], tx[7] = 'complete', order_number
return tx_reply_written(tx, now, ids, recs, '', 0, sold_values)
