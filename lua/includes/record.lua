-- includes/record.lua: the ticket record and split_record; what ORD_SPAN and CHUNK mean.
-- Needs no other include.

-- Ticket record (value in the performance's tickets hash): "ord|price|section|row|seat|price_level".
--   ord   : the ticket's place in seat order within its performance (0 .. 2^22-1); ords of seats next to
--           each other in one row differ by exactly 1, other neighbours by 2 or more.
--   price : integer cents (0 .. 2^31-1).
-- Availability score = price * 2^22 + ord: cheapest first, then seat order; adjacent seats of one price have
-- consecutive scores; scores are unique within a performance. Lock expiry times are integer milliseconds of the
-- Redis clock.

-- ORD_SPAN (2^22) and CHUNK (ords per chunk of a partition, at most zset-max-listpack-entries) are put in front of
-- the script from src/redis/keys.ts (SHARED_CONSTANTS in src/redis/scripts.ts).

-- Fields of a ticket record, empty ones kept: {ord, price, section, row, seat, price_level}.
local function split_record(rec)
  local f = {}
  for part in string.gmatch((rec or '') .. '|', '([^|]*)|') do f[#f + 1] = part end
  return f
end
