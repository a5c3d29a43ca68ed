-- migrate: bring state written by an older version to this one's layout, once (the key
-- `format` says which it is). Format 2: a frame's history list holds its past versions
-- only (format 1 kept the current one there too, and a list for every frame). Format 3:
-- frame ids, hashes and locations packed, frames and content hashes in bucketed maps (see
-- prelude.lua; format 2 had the hashes R:frames of id -> JSON and `hashes` of hash ->
-- location, and the order's members were the ids as they are).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV: only the shared ones
-- Returns: the format the state was in
-- Fails: -

local found = tonumber(redis.call('GET', P .. 'format') or '1')
if found >= 3 then return found end
local rooms = redis.call('ZRANGE', P .. 'rooms', 0, -1)
if found < 2 then
  for _, room in ipairs(rooms) do
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
end
for _, room in ipairs(rooms) do
  local R = room_key(room)
  local order, scored = {}, redis.call('ZRANGE', R .. ':order', 0, -1, 'WITHSCORES')
  for i = 1, #scored, 2 do order[i], order[i + 1] = scored[i + 1], pack_id(scored[i]) end
  redis.call('DEL', R .. ':order')
  chunked('ZADD', R .. ':order', order, 1000)
  local frames, keys, values = redis.call('HGETALL', R .. ':frames'), {}, {}
  for i = 1, #frames, 2 do
    keys[#keys + 1], values[#values + 1] = pack_id(frames[i]),
                                           pack_ref_of(cjson.decode(frames[i + 1]))
  end
  map_set(frames_of(R), keys, values)
  redis.call('DEL', R .. ':frames')
end
local hashes, packed, locations = redis.call('HGETALL', P .. 'hashes'), {}, {}
for i = 1, #hashes, 2 do
  packed[#packed + 1], locations[#locations + 1] = pack_hash(hashes[i]),
                                                   pack_location(hashes[i + 1])
end
map_set(contents(), packed, locations)
redis.call('DEL', P .. 'hashes')
save_counts()
redis.call('SET', P .. 'format', 3)
return found
