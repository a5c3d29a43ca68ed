-- export_state: every room's state at one moment (for backups); store.py makes the
-- neutral form of Store.export_state from it.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV: only the shared ones
-- Returns: {default or nil, {hash, location, ...}, {room, ...}}, each room
-- {name, HGETALL room:{name}, {id, ...} in order, {id, JSON [version, hash, location], ...},
--  LRANGE events,
--  {key, LRANGE key, ...} of its history and record keys, {kind, HGETALL, ...} of its
--  shared annotations}
-- Fails: -

local function entries(map, key_of, value_of)  -- the map as {key, value, ...}, unpacked
  local flat = {}
  each_bucket(map, 'HGETALL', function(_, stored)
    for i = 1, #stored, 2 do
      flat[#flat + 1], flat[#flat + 2] = key_of(stored[i]), value_of(stored[i + 1])
    end
  end)
  return flat
end

local rooms = {}
for k, room in ipairs(redis.call('ZRANGE', P .. 'rooms', 0, -1)) do
  local R = room_key(room)
  local lists = {}
  for _, key in ipairs(redis.call('SMEMBERS', R .. ':keys')) do
    lists[#lists + 1] = key
    lists[#lists + 1] = redis.call('LRANGE', key, 0, -1)
  end
  local shared = {}
  for _, kind in ipairs(SHARED_KINDS) do
    shared[#shared + 1] = kind
    shared[#shared + 1] = redis.call('HGETALL', R .. ':shared:' .. kind)
  end
  local order = order_range(R, 0, -1)
  for i, packed in ipairs(order) do order[i] = id_of(packed) end
  rooms[k] = {room, redis.call('HGETALL', R), order,
              entries(frames_of(R), id_of, ref_json), redis.call('LRANGE', R .. ':events', 0, -1),
              lists, shared}
end
return {redis.call('GET', P .. 'default'), entries(contents(), hash_of, location_of), rooms}
