-- renew: extend a lease the session holds.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] target, [6] session, [7] ttl (ms)
-- Returns: {the lease's new expiry in ms of the Redis clock, its user or false}
-- Fails: no_room, no_lease, held

local room, target, session, ttl = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
need_room(room)
local lease = live_lease(room, target)
if not lease then fail('no_lease', {target = target}) end
if lease.holder ~= session then fail('held', {holder = lease.holder, target = target}) end
local expires = now_ms() + ttl
save_lease(room, target, session, expires, ttl, lease.user)
return {expires, lease.user or false}
