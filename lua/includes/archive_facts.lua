-- includes/archive_facts.lua: archive_facts: what archiving a performance looks at, read in one step
-- (archive_state.lua reports it; archive_seal.lua reads it again and seals only when nothing changed).
-- Needs no other include; uses OUTBOX_GROUP (the order writers' consumer group, put in front of the script from
-- src/redis/keys.ts).

-- The fields of the perf hash archive_facts reads, in the order archive_state.lua returns them.
local ARCHIVE_FIELDS = {'code', 'name', 'starts_at', 'ends_at', 'ends_ms', 'hold_seconds', 'max_tickets_per_transaction',
  'created_at', 'updated_at', 'closed_at', 'recovering', 'order_seq', 'archiving', 'sealed_tickets', 'sealed_sold',
  'sealed_orders'}

-- Facts of a performance: fields (ARCHIVE_FIELDS by name, false when unset), tickets and sold (hash lengths),
-- last_hold (the latest lock expiry in the holds zset, ms as a string; '0' = none), outbox_last (the outbox's
-- last-generated-id: it never goes back, trimmed or not; '0-0' = no sale ever), group (false when the writers'
-- group is missing), pending (entries delivered and not acknowledged), delivered (the group's last-delivered-id), and
-- dead (dead letters). nil when the performance hash does not exist.
local function archive_facts(k_perf, k_tickets, k_holds, k_sold, k_outbox, k_dead)
  if redis.call('EXISTS', k_perf) == 0 then return nil end
  local values = redis.call('HMGET', k_perf, unpack(ARCHIVE_FIELDS))
  local f = {}
  for i, name in ipairs(ARCHIVE_FIELDS) do f[name] = values[i] end
  local last = redis.call('ZRANGE', k_holds, -1, -1, 'WITHSCORES')
  local facts = {fields = f, tickets = redis.call('HLEN', k_tickets), sold = redis.call('HLEN', k_sold),
    last_hold = last[2] or '0', outbox_last = '0-0', group = false, pending = 0, delivered = '0-0',
    dead = redis.call('XLEN', k_dead)}
  if redis.call('EXISTS', k_outbox) == 1 then
    local info = redis.call('XINFO', 'STREAM', k_outbox)
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then facts.outbox_last = info[i + 1] end
    end
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', k_outbox)) do
      local gf = {}
      for i = 1, #g, 2 do gf[g[i]] = g[i + 1] end
      if gf['name'] == OUTBOX_GROUP then
        facts.group, facts.pending, facts.delivered = true, tonumber(gf['pending']), gf['last-delivered-id']
      end
    end
  end
  return facts
end
