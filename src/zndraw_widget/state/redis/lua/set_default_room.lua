-- set_default_room: make a room the default one.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room
-- Returns: nothing
-- Fails: no_room

need_room(ARGV[4])
redis.call('SET', P .. 'default', ARGV[4])
