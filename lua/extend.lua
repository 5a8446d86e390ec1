-- extend.lua: checkout; resets the lock of every ticket of a transaction to now + its hold time, capped at
-- created_at + max hold. A lapsed lock is taken again when every ticket is still free.
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash (id -> record)
-- KEYS[3] available: the available index (set of partitions, see includes/avail.lua)
-- KEYS[4] holds: the holds zset (locked id -> lock expiry ms)
-- KEYS[5] sold: the sold hash (id -> 'order_number|transaction_id')
-- KEYS[6] transaction: the transaction hash
-- Lock keys are derived from KEYS[1] (lock_prefix_of in includes/keys.lua): the same hash tag, so the same slot.
-- ARGV[1] transaction_id: the transaction's id
-- ARGV[2] client: the caller's client name
-- ARGV[3] admin: '1' when the caller is an admin
-- ARGV[4] ticket_ids: the caller's ticket ids sorted and comma-joined ('' = not given)
-- ARGV[5] max_hold_seconds: the longest a transaction may hold, from its creation
-- ARGV[6] retention_ms: record retention after the end (ms)
-- ARGV[7] open_record_ttl_ms: transaction record ttl while open (ms)
-- Returns a transaction reply (see tx_reply); {-10} not found; {-11} ticket list mismatch;
-- {-12, status} complete, released or expired; {-13, cap ms} max hold reached;
-- {-1, id, 'sold'|'locked', ...} a lapsed lock's tickets were taken (the transaction is now expired);
-- {-70} the performance is closed and the lock lapsed (a closed performance revives no lock: includes/closed.lua);
-- {-10} also when the performance is gone (archived) while the record lives on.
--- @include "includes/buyer_limit"
--- @include "includes/closed"
--- @include "includes/conflicts"
--- @include "includes/int_str"
--- @include "includes/keys"
--- @include "includes/lock_all"
--- @include "includes/mget"
--- @include "includes/time"
--- @include "includes/tx"
--- @include "includes/tx_load"
local k_perf, k_tickets, k_avail, k_holds, k_sold, k_tx = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local lock_prefix = lock_prefix_of(k_perf)
local txid = ARGV[1]
local now, now_s = now_ms()
local tx, ids = load_tx(k_tx, ARGV[2], ARGV[3], ARGV[4])
if not tx then return ids end
local status = tx[1]
if status ~= 'open' and status ~= 'checkout' then return {-12, status} end
local perf = redis.call('HMGET', k_perf, 'code', 'closed_at', 'ends_ms')
if not perf[1] then return {-10} end
if closed(perf[2], perf[3], now) and now > tonumber(tx[5]) then return {-70} end

local cap = tonumber(tx[4]) + tonumber(ARGV[5]) * 1000
if now >= cap then return {-13, cap} end
local expires = math.min(now + tonumber(tx[6]) * 1000, cap)
local expires_s = int_str(expires)

local taken, holders = conflicts(k_sold, lock_prefix, ids, txid)
if #taken > 0 then return expire_tx(k_tx, taken, tonumber(ARGV[6])) end

local recs = mget_many(k_tickets, '', ids)
lock_all(k_avail, k_holds, lock_prefix, ids, recs, txid, expires_s, holders)
buyer_track(tx[10], ids, expires_s)
redis.call('HSET', k_tx, 'status', 'checkout', 'lock_expires', expires_s)
redis.call('PEXPIRE', k_tx, ARGV[7])
tx[1], tx[5] = 'checkout', expires
return tx_reply_written(tx, now, ids, recs, txid, expires)
