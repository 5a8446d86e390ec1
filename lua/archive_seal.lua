-- archive_seal.lua: seal a performance for its archive, once the caller has checked that the document store holds
-- every sale it read (src/domain/archive.ts): in one step, check again that the performance is closed (or ended), that
-- its last lock lapsed at least margin_ms ago (a closed performance sells only under a live lock, so from then on no
-- sale can happen: includes/closed.lua), that every sale of its outbox was delivered to the order writers and
-- acknowledged, that it has no dead letters and is not recovering, and that nothing changed since the caller read it
-- (order sequence, ticket and sale counts, the outbox's last id); then mark it `archiving` (and closed, when it only
-- ended). A sealed performance never changes again; its keys are removed next (src/redis/archive-store.ts).
-- KEYS[1] performance: the performance hash
-- KEYS[2] tickets: the tickets hash
-- KEYS[3] holds: the holds zset
-- KEYS[4] sold: the sold hash
-- KEYS[5] outbox: the outbox stream
-- KEYS[6] dead_letters: the dead-letter stream
-- ARGV[1] ends_ms: its end (ms) when its hash has none (a performance loaded before ends_ms existed); '' = none
-- ARGV[2] margin_ms: how long ago the last lock must have lapsed
-- ARGV[3] order_seq: the order sequence the caller verified
-- ARGV[4] tickets: the ticket count the caller verified
-- ARGV[5] sold: the sold-ticket count the caller verified
-- ARGV[6] outbox_last: the outbox's last-generated-id the caller verified ('0-0' = no sale ever)
-- ARGV[7] orders: the order count the caller verified (recorded with the seal)
-- Returns {1, sealed at (ms)}; {2, sealed at} when it was sealed before (nothing checked or written); {0, reason}
-- when it may not be sealed now (nothing written); {0, 'not found'} when the performance does not exist.
--- @include "includes/archive_facts"
--- @include "includes/closed"
--- @include "includes/time"
local k_perf = KEYS[1]
local facts = archive_facts(k_perf, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
if not facts then return {0, 'not found'} end
local f = facts.fields
if f.archiving then return {2, f.archiving} end
local now, now_s = now_ms()
local ends_ms = f.ends_ms
if not ends_ms and ARGV[1] ~= '' then ends_ms = ARGV[1] end
if not closed(f.closed_at, ends_ms, now) then return {0, 'open'} end
if f.recovering then return {0, 'recovering'} end
if tonumber(facts.last_hold) > now - tonumber(ARGV[2]) then return {0, 'a lock is live or lapsed too recently'} end
if facts.dead > 0 then return {0, 'dead letters'} end
if facts.outbox_last ~= '0-0' and (not facts.group or facts.delivered ~= facts.outbox_last) then
  return {0, 'sales not yet delivered to the order writer'}
end
if facts.pending > 0 then return {0, 'sales not yet acknowledged by the order writer'} end
if tostring(f.order_seq or 0) ~= ARGV[3] or facts.tickets ~= tonumber(ARGV[4]) or facts.sold ~= tonumber(ARGV[5])
  or facts.outbox_last ~= ARGV[6] then
  return {0, 'changed since it was verified'}
end
redis.call('HSETNX', k_perf, 'closed_at', now_s)
redis.call('HSET', k_perf, 'archiving', now_s, 'sealed_tickets', ARGV[4], 'sealed_sold', ARGV[5],
  'sealed_orders', ARGV[7], 'updated_at', now_s)
return {1, now_s}
