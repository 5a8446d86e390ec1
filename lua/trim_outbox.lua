-- trim_outbox.lua: drop from an outbox every entry all its consumer groups are done with (delivered and
-- acknowledged), and say what is left: the order writer's sweep (src/redis/active-outboxes.ts).
-- KEYS[1] outbox: the outbox stream
-- Returns {1, left, pending, now, trimmed}: entries left in the stream, entries pending (delivered, not acknowledged)
-- in its groups, the Redis time (ms) of this look, entries removed. An entry stays while any group has not
-- delivered it (id above the group's last-delivered-id) or holds it pending (its consumer may have died before XACK:
-- XAUTOCLAIM must still find it), so the stream keeps everything from the lowest such id on (XTRIM MINID). A
-- stream without a group keeps everything: no writer has joined it yet. Dead letters are acknowledged when they
-- move to <outbox>-dead, so they go from here and stay there.
--- @include "includes/time"
local k_outbox = KEYS[1]
local now = now_ms()
local len = redis.call('XLEN', k_outbox)
if len == 0 then return {1, 0, 0, now, 0} end

-- stream ids 'ms-seq' compared as numbers without floating point: shorter digit strings are smaller
local function less(a_ms, a_seq, b_ms, b_seq)
  if a_ms ~= b_ms then
    if #a_ms ~= #b_ms then return #a_ms < #b_ms end
    return a_ms < b_ms
  end
  if #a_seq ~= #b_seq then return #a_seq < #b_seq end
  return a_seq < b_seq
end

local keep_ms, keep_seq -- the lowest id some group still needs; nil = none found yet
local pending = 0
local groups = redis.call('XINFO', 'GROUPS', k_outbox)
if #groups == 0 then return {1, len, 0, now, 0} end
for _, g in ipairs(groups) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  local ms, seq = string.match(f['last-delivered-id'], '^(%d+)-(%d+)$')
  -- the first id after the last delivered one (a sequence too long for exact arithmetic keeps that entry)
  if #seq < 15 then seq = string.format('%d', tonumber(seq) + 1) end
  if tonumber(f['pending']) > 0 then
    local summary = redis.call('XPENDING', k_outbox, f['name'])
    pending = pending + tonumber(summary[1])
    -- the oldest pending entry was delivered, so it lies at or below the last delivered one
    ms, seq = string.match(summary[2], '^(%d+)-(%d+)$')
  end
  if keep_ms == nil or less(ms, seq, keep_ms, keep_seq) then keep_ms, keep_seq = ms, seq end
end
local trimmed = redis.call('XTRIM', k_outbox, 'MINID', keep_ms .. '-' .. keep_seq)
return {1, len - trimmed, pending, now, trimmed}
