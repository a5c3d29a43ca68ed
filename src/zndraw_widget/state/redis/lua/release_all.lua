-- release_all: give up every live lease of a session; tell each room. Expired
-- leases stay for the sweeper (expire_leases) to report.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] session
-- Returns: {lease JSON, ...} of the released leases
-- Fails: -

local session = ARGV[4]
local released = {}
for _, key in ipairs(redis.call('SMEMBERS', session_key(session))) do
  local value = redis.call('GET', key)
  local lease = value and cjson.decode(value)
  if not lease or lease.holder ~= session then
    redis.call('SREM', session_key(session), key)  -- gone or taken over after expiring
  elseif lease.expires > now_ms() then
    drop_lease(lease.room, lease.target, session)
    emit(lease.room, {type = 'lease', target = lease.target, holder = cjson.null,
                      expires = cjson.null})
    released[#released + 1] = value
  end
end
return released
