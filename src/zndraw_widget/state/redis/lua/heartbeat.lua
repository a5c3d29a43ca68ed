-- heartbeat: a server process says it is alive for ttl more ms.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] process id, [5] ttl (ms)
-- Returns: nothing
-- Fails: -
-- Keys: `processes` scores each process by the expiry of its heartbeat (ms).

redis.call('ZADD', P .. 'processes', now_ms() + tonumber(ARGV[5]), ARGV[4])
