-- export_state: every room's state at one moment (for backups); store.py makes the
-- neutral form of Store.export_state from it.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV: only the shared ones
-- Returns: {default or nil, HGETALL hashes, {room, ...}}, each room
-- {name, HGETALL room:{name}, ZRANGE order, HGETALL frames, LRANGE events,
--  {key, LRANGE key, ...} of its history and record keys, {kind, HGETALL, ...} of its
--  shared annotations}
-- Fails: -

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
  rooms[k] = {room, redis.call('HGETALL', R), redis.call('ZRANGE', R .. ':order', 0, -1),
              redis.call('HGETALL', R .. ':frames'), redis.call('LRANGE', R .. ':events', 0, -1),
              lists, shared}
end
return {redis.call('GET', P .. 'default'), redis.call('HGETALL', P .. 'hashes'), rooms}
