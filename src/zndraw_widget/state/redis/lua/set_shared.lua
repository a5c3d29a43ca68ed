-- set_shared: set one entry of a room's shared annotations (a user's selection, a
-- bookmark), or delete it; tell the room (seq not bumped).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] kind, [6] key, [7] the value as JSON ('': delete the entry),
-- [8] how many entries of the kind the room keeps at most
-- Returns: the event (JSON); false (no event) when deleting an entry the room does not have
-- Fails: no_room, too_many

local room, kind, key, value, limit = ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local R = need_room(room)
local H = R .. ':shared:' .. kind
if value == '' then
  if redis.call('HDEL', H, key) == 0 then return false end
  return emit(room, {type = kind, key = key, value = cjson.null})
end
if redis.call('HEXISTS', H, key) == 0 and redis.call('HLEN', H) >= limit then
  fail('too_many', {kind = kind, limit = limit})
end
redis.call('HSET', H, key, value)
return emit(room, {type = kind, key = key}, {value = value})
