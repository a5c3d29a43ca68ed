-- claim_session: bind a session id to a user, or renew the binding.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] session, [5] user, [6] how long the binding lasts (ms)
-- Returns: nothing
-- Fails: session_taken

local session, user, ttl = ARGV[4], ARGV[5], tonumber(ARGV[6])
local key = P .. 'session:' .. session .. ':user'
local bound = redis.call('GET', key)
if bound and bound ~= user then fail('session_taken', {session = session}) end
redis.call('SET', key, user, 'PX', math.max(ttl, 1))
