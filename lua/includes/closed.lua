-- includes/closed.lua: closed: is a performance closed, from fields of its hash.
-- Needs no other include.

-- A performance is closed once an admin closed it (perf hash `closed_at`, ms) or once its end has come (`ends_ms`:
-- its ends_at, else its starts_at + PERFORMANCE_END_GRACE_SECONDS, written by every PUT). A closed performance takes no
-- new holds and no inventory; a transaction whose lock is live may still be checked out and completed, one whose lock
-- lapsed may not (so once the last lock lapsed nothing can change it: see archive_seal.lua). closed_at and ends_ms as
-- HMGET gives them (false when unset); now: Redis ms (now_ms). src/domain/lifecycle.ts says the same in TypeScript.
local function closed(closed_at, ends_ms, now)
  return closed_at ~= false or (ends_ms ~= false and now >= tonumber(ends_ms))
end
