-- release.lua: end a transaction without checkout; every ticket it still locks is free again at once.
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
-- ARGV[4] retention_ms: record retention after the end (ms)
-- Returns a transaction reply (see tx_reply), also when already released; {-10} not found;
-- {-12, 'complete'} a completed transaction cannot be released; {-10} also when the performance is gone (archived)
-- while the record lives on.
--- @include "includes/avail_add"
--- @include "includes/buyer_forget"
--- @include "includes/keys"
--- @include "includes/mget"
--- @include "includes/time"
--- @include "includes/tx_load"
--- @include "includes/tx_reply"
local k_perf, k_tickets, k_avail, k_holds, k_sold, k_tx = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local lock_prefix = lock_prefix_of(k_perf)
local txid = ARGV[1]
local now, now_s = now_ms()
if redis.call('EXISTS', k_perf) == 0 then return {-10} end
local tx, ids = load_tx(k_tx, ARGV[2], ARGV[3], '')
if not tx then return ids end
local status = tx[1]
if status == 'complete' then return {-12, status} end
if status ~= 'released' then
  local holders = mget_many(nil, lock_prefix, ids)
  local sold = mget_many(k_sold, '', ids)
  local recs = mget_many(k_tickets, '', ids)
  local unlocked, lock_keys, back = {}, {}, {}
  for i, tid in ipairs(ids) do
    if holders[i] == txid then
      unlocked[#unlocked + 1] = tid
      lock_keys[#lock_keys + 1] = lock_prefix .. tid
      if not sold[i] and recs[i] then back[#back + 1] = {tid, recs[i]} end
    end
  end
  if #unlocked > 0 then
    redis.call('DEL', unpack(lock_keys))
    redis.call('ZREM', k_holds, unpack(unlocked))
    avail_add_many(k_avail, back)
  end
  buyer_forget(tx[10], unlocked)
  redis.call('HSET', k_tx, 'status', 'released', 'released_at', now_s)
  redis.call('PEXPIRE', k_tx, ARGV[4])
  tx[1] = 'released'
end
return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now, tx)
