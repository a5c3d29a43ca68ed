-- list_rooms: a page of the rooms, ordered by name.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] offset, [5] limit
-- Returns: {total, {room_info reply, ...}}
-- Fails: -

local offset, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local rooms = {}
if limit > 0 then
  for k, room in ipairs(redis.call('ZRANGE', P .. 'rooms', offset, offset + limit - 1)) do
    rooms[k] = info(room)
  end
end
return {redis.call('ZCARD', P .. 'rooms'), rooms}
