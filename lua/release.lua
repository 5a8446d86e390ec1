-- release.lua: end a transaction without checkout; every ticket it still locks is free again at once.
-- KEYS[1] performance hash   KEYS[2] tickets hash   KEYS[3] available index (set of partitions)   KEYS[4] holds zset   KEYS[5] sold hash
-- KEYS[6] transaction hash   KEYS[7] lock key prefix (a prefix, not a key)   KEYS[8] outbox stream (unused here)
-- ARGV[1] transaction id   ARGV[2] caller's client name   ARGV[3] '1' when the caller is an admin
-- ARGV[4] record retention after the end (ms)
-- Returns a transaction reply (see tx_reply), also when already released; {-10} not found;
-- {-12, 'complete'} a completed transaction cannot be released.
local k_perf, k_tickets, k_avail, k_holds, k_sold, k_tx, lock_prefix =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local txid = ARGV[1]
local now = now_ms()
local status, ids = load_tx(k_tx, ARGV[2], ARGV[3], '')
if not status then return ids end
if status == 'complete' then return {-12, status} end
if status ~= 'released' then
  local unlocked = {}
  for _, tid in ipairs(ids) do
    if redis.call('GET', lock_prefix .. tid) == txid then
      unlocked[#unlocked + 1] = tid
      redis.call('DEL', lock_prefix .. tid)
      redis.call('ZREM', k_holds, tid)
      if redis.call('HEXISTS', k_sold, tid) == 0 then
        avail_add(k_avail, tid, redis.call('HGET', k_tickets, tid))
      end
    end
  end
  buyer_forget(k_tx, unlocked)
  redis.call('HSET', k_tx, 'status', 'released', 'released_at', now)
  redis.call('PEXPIRE', k_tx, tonumber(ARGV[4]))
end
return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now)
