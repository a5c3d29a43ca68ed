-- expire_rooms: ephemeral rooms someone is present in expire later; those nobody is
-- present in whose expiry passed are returned, for the caller to delete.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] now (s), [5] seconds a room with someone present is extended by
-- Returns: {room, ...} of the rooms due
-- Fails: -

local now, extend = tonumber(ARGV[4]), tonumber(ARGV[5])
local due = {}
for _, room in ipairs(redis.call('ZRANGE', P .. 'ephemeral', 0, -1)) do
  local R = room_key(room)
  if redis.call('EXISTS', R) == 0 then
    redis.call('ZREM', P .. 'ephemeral', room)
  elseif redis.call('HLEN', R .. ':presence') > 0 then
    local expires = string.format('%.17g', now + extend)
    redis.call('HSET', R, 'expires', expires)
    redis.call('ZADD', P .. 'ephemeral', expires, room)
  elseif tonumber(redis.call('HGET', R, 'expires')) <= now then
    due[#due + 1] = room
  end
end
return due
