-- expire_processes: forget processes whose heartbeat lapsed and drop the leases (told
-- as expired) and presence of the sessions still attached to them.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] the sweeping process (alive, whatever its heartbeat says)
-- Returns: {process, ...} of the processes forgotten
-- Fails: -

local dead = {}
for _, process in ipairs(redis.call('ZRANGEBYSCORE', P .. 'processes', '-inf', now_ms())) do
  if process ~= ARGV[4] then dead[#dead + 1] = process end
end
for _, process in ipairs(dead) do
  redis.call('ZREM', P .. 'processes', process)
  local sessions = P .. 'process:' .. process .. ':sessions'
  for _, session in ipairs(redis.call('SMEMBERS', sessions)) do
    local attached = P .. 'session:' .. session .. ':process'
    if redis.call('GET', attached) == process then
      redis.call('DEL', attached)
      for _, key in ipairs(redis.call('SMEMBERS', session_key(session))) do
        local value = redis.call('GET', key)
        local lease = value and cjson.decode(value)
        if lease and lease.holder == session then
          drop_lease(lease.room, lease.target, session)
          emit(lease.room, {type = 'lease', target = lease.target, holder = cjson.null,
                            expires = cjson.null, expired = session})
        end
      end
      redis.call('DEL', session_key(session))
      for _, room in ipairs(redis.call('SMEMBERS', rooms_key(session))) do
        redis.call('ZREM', P .. 'presence', cjson.encode({room, session}))
        if redis.call('HDEL', room_key(room) .. ':presence', session) == 1 then
          emit(room, {type = 'presence', session = session, user = cjson.null, present = false})
        end
      end
      redis.call('DEL', rooms_key(session))
    end
  end
  redis.call('DEL', sessions)
end
return dead
