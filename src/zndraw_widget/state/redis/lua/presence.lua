-- presence: mark a session present in a room (until the ttl) or gone; tell the room
-- if that changed.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] session, [6] user JSON (null: the session leaves), [7] ttl (ms)
-- Returns: {session, user, session, user, ...} of the sessions present
-- Fails: no_room

local room, session, user, ttl_ms = ARGV[4], ARGV[5], cjson.decode(ARGV[6]), tonumber(ARGV[7])
local R = need_room(room)
local present = R .. ':presence'
local member = cjson.encode({room, session})
local changed
if user == cjson.null then
  changed = redis.call('HDEL', present, session)
  redis.call('ZREM', P .. 'presence', member)
  redis.call('SREM', rooms_key(session), room)
else
  changed = redis.call('HSET', present, session, user)
  redis.call('ZADD', P .. 'presence', now_ms() + ttl_ms, member)
  redis.call('SADD', rooms_key(session), room)
end
if changed == 1 then
  emit(room, {type = 'presence', session = session, user = user, present = user ~= cjson.null})
end
return redis.call('HGETALL', present)
