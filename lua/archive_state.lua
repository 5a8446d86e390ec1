-- archive_state.lua: what archiving a performance looks at, in one step (reads only; see includes/archive_facts.lua).
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash
-- KEYS[3] holds: the holds zset
-- KEYS[4] sold: the sold hash
-- KEYS[5] outbox: the outbox stream
-- KEYS[6] dead_letters: the dead-letter stream
-- Returns {0} when the performance does not exist, else {1, now, tickets, sold, last_hold, outbox_last, group (1 or
-- 0), pending, delivered, dead, then the perf hash's ARCHIVE_FIELDS in their order ('' when unset)}.
--- @include "includes/archive_facts"
--- @include "includes/time"
local facts = archive_facts(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
if not facts then return {0} end
local _, now_s = now_ms()
local group = 0
if facts.group then group = 1 end
local out = {1, now_s, facts.tickets, facts.sold, facts.last_hold, facts.outbox_last, group, facts.pending,
  facts.delivered, facts.dead}
for _, name in ipairs(ARCHIVE_FIELDS) do out[#out + 1] = facts.fields[name] or '' end
return out
