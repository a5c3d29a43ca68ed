-- room_info: a room's counters.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room
-- Returns: {name, length, seq, order_version, step, created, owner or false, grants or false}
-- Fails: no_room

need_room(ARGV[4])
return info(ARGV[4])
