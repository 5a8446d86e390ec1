-- includes/buyer_forget.lua: buyer_forget: a buyer's tickets released or sold leave the buyer's zset (see
-- buyer_limit.lua). Needs no other include.

-- Buyer k_buyer ('' or false = no buyer) no longer has ids locked (released or sold).
local function buyer_forget(k_buyer, ids)
  if not k_buyer or k_buyer == '' or #ids == 0 then return end
  redis.call('ZREM', k_buyer, unpack(ids))
end
