-- detach: a session's control connection on a process closed.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] process id, [5] session
-- Returns: nothing
-- Fails: -

local process, session = ARGV[4], ARGV[5]
local key = P .. 'session:' .. session .. ':process'
if redis.call('GET', key) == process then redis.call('DEL', key) end
redis.call('SREM', P .. 'process:' .. process .. ':sessions', session)
