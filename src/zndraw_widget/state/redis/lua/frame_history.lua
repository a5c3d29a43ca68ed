-- frame_history: the last versions of a frame, oldest first.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] frame id
-- Returns: JSON [[version, hash, location], ...]
-- Fails: no_room, no_frame

local room, id = ARGV[4], ARGV[5]
local R = need_room(room)
local current = get_ref(R, id)
if not current then fail('no_frame', {id = id, room = room}) end
local versions = redis.call('LRANGE', R .. ':history:' .. id, 0, -1)  -- the past ones
versions[#versions + 1] = cjson.encode(current)
return '[' .. table.concat(versions, ',') .. ']'
