-- pop_record: take the top of a session's undo or redo stack.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] session, [6] 'undo' or 'redo'
-- Returns: the record (JSON), or nil if the stack is empty
-- Fails: no_room

local R = need_room(ARGV[4])
return redis.call('RPOP', R .. ':records:' .. ARGV[5] .. ':' .. ARGV[6])
