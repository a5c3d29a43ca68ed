-- acquire: take or extend the lease on a target; tell the room if it is new.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] target, [6] session, [7] ttl (ms), [8] the session's user JSON (or null)
-- Returns: the lease's expiry, in ms of the Redis clock
-- Fails: no_room, locked

local room, target, session, ttl = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local user = cjson.decode(ARGV[8])
if user == cjson.null then user = nil end
need_room(room)
check_lease(room, target, session)
local is_new = live_lease(room, target) == nil
local old = redis.call('GET', lease_key(room, target))
if old and cjson.decode(old).holder ~= session then  -- expired: that session lost it
  redis.call('SREM', session_key(cjson.decode(old).holder), lease_key(room, target))
end
local expires = now_ms() + ttl
save_lease(room, target, session, expires, ttl, user)
if is_new then
  emit(room, {type = 'lease', target = target, holder = session, expires = expires / 1000,
              user = user or cjson.null})
end
return expires
