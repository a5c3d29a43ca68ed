-- set_access: give a room its owner and grants (replacing both); tell the room.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] owner JSON (null: none), [6] grants JSON object (role by key)
-- Returns: the room_info reply
-- Fails: no_room

local room, owner, grants = ARGV[4], cjson.decode(ARGV[5]), ARGV[6]
local R = need_room(room)
if owner == cjson.null then
  redis.call('HDEL', R, 'owner')
else
  redis.call('HSET', R, 'owner', owner)
end
redis.call('HSET', R, 'grants', grants)
emit(room, {type = 'access', owner = owner}, {grants = grants})
return info(room)
