-- frame_history: the last versions of a frame, oldest first.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] frame id
-- Returns: JSON [[version, hash, location], ...]
-- Fails: no_room, no_frame

local room, id = ARGV[4], ARGV[5]
local R = need_room(room)
if redis.call('HEXISTS', R .. ':frames', id) == 0 then fail('no_frame', {id = id, room = room}) end
return '[' .. table.concat(redis.call('LRANGE', R .. ':history:' .. id, 0, -1), ',') .. ']'
