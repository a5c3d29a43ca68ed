-- migrate: bring state written by an older version to this one's layout, once (the key
-- `format` says which it is). Format 2: a frame's history list holds its past versions
-- only (format 1 kept the current one there too, and a list for every frame).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV: only the shared ones
-- Returns: the format the state was in
-- Fails: -

local found = tonumber(redis.call('GET', P .. 'format') or '1')
if found >= 2 then return found end
for _, room in ipairs(redis.call('ZRANGE', P .. 'rooms', 0, -1)) do
  local R = room_key(room)
  local prefix = R .. ':history:'
  for _, key in ipairs(redis.call('SMEMBERS', R .. ':keys')) do
    if string.sub(key, 1, #prefix) == prefix then
      local id = string.sub(key, #prefix + 1)
      local current = redis.call('HGET', R .. ':frames', id)
      if current and redis.call('LINDEX', key, -1) == current then
        redis.call('RPOP', key)
        trim_past(R, id, HISTORY_DEPTH - 1)
        if redis.call('EXISTS', key) == 0 then redis.call('SREM', R .. ':keys', key) end
      end
    end
  end
end
redis.call('SET', P .. 'format', 2)
return found
