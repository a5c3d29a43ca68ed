-- attach: a session's control connection is on a process (moving it from any other).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] process id, [5] session
-- Returns: nothing
-- Fails: -
-- Keys: `session:{session}:process` names its process, `process:{process}:sessions`
-- holds the sessions attached to a process (possibly since moved: the former decides).

local process, session = ARGV[4], ARGV[5]
redis.call('SET', P .. 'session:' .. session .. ':process', process)
redis.call('SADD', P .. 'process:' .. process .. ':sessions', session)
