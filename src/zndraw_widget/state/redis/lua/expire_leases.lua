-- expire_leases: the sweeper: drop expired leases and presences, telling their rooms.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV: only the prelude's
-- Returns: {lease JSON, ...} of the expired leases
-- Fails: -

local expired = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', now_ms())) do
  local value = redis.call('GET', key)
  if value then
    local lease = cjson.decode(value)
    drop_lease(lease.room, lease.target, lease.holder)
    emit(lease.room, {type = 'lease', target = lease.target, holder = cjson.null,
                      expires = cjson.null, expired = lease.holder})
    expired[#expired + 1] = value
  else  -- Redis dropped it after its grace period: nobody swept in time
    redis.call('ZREM', P .. 'leases', key)
  end
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', P .. 'presence', '-inf', now_ms())) do
  local room, session = unpack(cjson.decode(member))
  redis.call('ZREM', P .. 'presence', member)
  redis.call('SREM', rooms_key(session), room)
  if redis.call('HDEL', room_key(room) .. ':presence', session) == 1 then
    emit(room, {type = 'presence', session = session, user = cjson.null, present = false})
  end
end
return expired
