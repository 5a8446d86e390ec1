-- includes/begin_tx.lua: hold_settings, begin_early_reply, open_tx: beginning a transaction (hold.lua,
-- hold_best.lua). Includes tx (read_tx, may_access, tx_reply_written), tx_reply, lock_all, buyer_limit
-- (buyer_track), closed and int_str.
--- @include "buyer_limit"
--- @include "closed"
--- @include "int_str"
--- @include "lock_all"
--- @include "tx"
--- @include "tx_reply"

-- Performance settings that shape a new hold: hold_seconds, max_tickets, exists, recovering, is_closed with the given
-- defaults (exists: the performance hash is there; every performance has a code). now: Redis ms.
local function hold_settings(k_perf, requested_hold, default_hold, default_max, now)
  local f = redis.call('HMGET', k_perf, 'hold_seconds', 'max_tickets_per_transaction', 'code', 'recovering',
    'closed_at', 'ends_ms')
  local hold = tonumber(requested_hold)
  if hold == 0 then hold = tonumber(f[1]) or tonumber(default_hold) end
  -- recovering: the order writer found this performance behind the document store; no hold until rehydrated.
  -- closed (by an admin, or ended): no hold ever again (see closed.lua)
  return hold, tonumber(f[2]) or tonumber(default_max), f[3] ~= false, f[4] ~= false, closed(f[5], f[6], now)
end

-- The answer a hold or best-available hold gives before doing anything, or nil: {-50} when it runs past its
-- deadline (Redis ms, 0 = none; its caller has given up and answered 503); the existing transaction again when
-- this id exists (a re-sent command, or a retry with the same Idempotency-Key), but only to the client that began it
-- ({-10} to anyone else).
local function begin_early_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, client, deadline, now)
  deadline = tonumber(deadline)
  if deadline > 0 and now > deadline then return {-50} end
  if redis.call('EXISTS', k_tx) == 1 then
    local tx = read_tx(k_tx)
    if not may_access(tx[2], client, '0') then return {-10} end
    return tx_reply(k_tx, k_tickets, k_sold, k_holds, lock_prefix, now, tx)
  end
  return nil
end

-- Locks ids (records recs, none locked or sold) for txid and writes the transaction record (status open); the
-- record outlives the longest hold. now, now_s: now_ms's two values. k_buyer: the buyer's zset ('' = no buyer
-- given). Returns the reply.
local function open_tx(k_tx, k_avail, k_holds, lock_prefix, txid, perf_id, ids, recs, client, ip, hold, now, now_s, ttl_ms, k_buyer)
  local expires = now + hold * 1000
  local expires_s = int_str(expires)
  lock_all(k_avail, k_holds, lock_prefix, ids, recs, txid, expires_s, nil)
  local fields = {'status', 'open', 'client', client, 'ip', ip, 'created_at', now_s, 'lock_expires', expires_s,
    'hold_seconds', int_str(hold), 'performance_id', perf_id, 'tickets', table.concat(ids, ',')}
  if k_buyer ~= '' then
    fields[#fields + 1] = 'buyer'
    fields[#fields + 1] = k_buyer
  end
  redis.call('HSET', k_tx, unpack(fields))
  redis.call('PEXPIRE', k_tx, ttl_ms)
  buyer_track(k_buyer, ids, expires_s)
  return tx_reply_written({'open', client, ip, now, expires, hold, '', perf_id}, now, ids, recs, txid, expires)
end
