-- leases: the live leases of a room.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room
-- Returns: {lease JSON, ...}
-- Fails: no_room

local R = need_room(ARGV[4])
local now, leases = now_ms(), {}
for _, target in ipairs(redis.call('SMEMBERS', R .. ':leases')) do
  local value = redis.call('GET', lease_key(ARGV[4], target))
  if value and cjson.decode(value).expires > now then leases[#leases + 1] = value end
end
return leases
