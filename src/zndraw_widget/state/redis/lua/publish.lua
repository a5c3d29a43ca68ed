-- publish: send an event to the room's channel, with the current seq (and time) added.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] the event: a JSON object, never empty
-- Returns: nothing
-- Fails: no_room

local R = need_room(ARGV[4])
local seq = redis.call('HGET', R, 'seq')
redis.call('PUBLISH', R .. ':events', live(string.sub(ARGV[5], 1, -2) .. ',"seq":' .. seq .. '}'))
