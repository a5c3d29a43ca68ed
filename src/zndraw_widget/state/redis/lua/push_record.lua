-- push_record: put a record back on top of a session's undo or redo stack.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] session, [6] 'undo' or 'redo', [7] record JSON
-- Returns: nothing
-- Fails: no_room

local R = need_room(ARGV[4])
local stack = R .. ':records:' .. ARGV[5] .. ':' .. ARGV[6]
redis.call('RPUSH', stack, ARGV[7])
redis.call('SADD', R .. ':keys', stack)
