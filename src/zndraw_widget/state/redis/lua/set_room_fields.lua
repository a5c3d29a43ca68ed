-- set_room_fields: a room's description and whether (until when) it is ephemeral.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] JSON {description?: str, expires?: number (s) or null}
-- Returns: the room_info reply
-- Fails: no_room

local room, fields = ARGV[4], cjson.decode(ARGV[5])
local R = need_room(room)
if fields.description ~= nil then redis.call('HSET', R, 'description', fields.description) end
if fields.expires == cjson.null then
  redis.call('HDEL', R, 'expires')
  redis.call('ZREM', P .. 'ephemeral', room)
elseif fields.expires ~= nil then
  local expires = string.format('%.17g', fields.expires)
  redis.call('HSET', R, 'expires', expires)
  redis.call('ZADD', P .. 'ephemeral', expires, room)
end
return info(room)
