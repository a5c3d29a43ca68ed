-- import_state: load a backup's state into a deployment that holds no room.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] JSON {default (or null), hashes: [hash, location, ...], rooms: [{name,
-- meta: [seq, order_version, step, created] (strings), order: [id], frames: [id, JSON
-- [version, hash, location], ...], lists: [[suffix, [JSON, ...]], ...] (history:{id},
-- records:{session}:undo|redo), events: [JSON], owner (or null), grants: JSON object,
-- description (string), expires (or null: the room is kept), shared: [[kind, [key, JSON,
-- ...]], ...]}]}
-- Returns: nothing
-- Fails: not_empty

local state = cjson.decode(ARGV[4])
local existing = redis.call('ZCARD', P .. 'rooms')
if existing > 0 then fail('not_empty', {rooms = existing}) end
for _, room in ipairs(state.rooms) do
  local R = room_key(room.name)
  local m = room.meta
  redis.call('HSET', R, 'seq', m[1], 'order_version', m[2], 'step', m[3], 'created', m[4],
             'grants', room.grants)
  if room.owner ~= cjson.null then redis.call('HSET', R, 'owner', room.owner) end
  if room.description ~= '' then redis.call('HSET', R, 'description', room.description) end
  if room.expires ~= cjson.null then
    redis.call('HSET', R, 'expires', room.expires)
    redis.call('ZADD', P .. 'ephemeral', room.expires, room.name)
  end
  redis.call('ZADD', P .. 'rooms', 0, room.name)
  start_order(R, room.order)
  local keys, values = {}, {}
  for i = 1, #room.frames, 2 do
    keys[#keys + 1], values[#values + 1] = pack_id(room.frames[i]),
                                           pack_ref_of(cjson.decode(room.frames[i + 1]))
  end
  map_set(frames_of(R), keys, values)
  chunked('RPUSH', R .. ':events', room.events, 1000)
  for _, entries in ipairs(room.shared) do
    chunked('HSET', R .. ':shared:' .. entries[1], entries[2], 1000)
  end
  for _, list in ipairs(room.lists) do
    local key = R .. ':' .. list[1]
    chunked('RPUSH', key, list[2], 1000)
    redis.call('SADD', R .. ':keys', key)
  end
end
local hashes, locations = {}, {}
for i = 1, #state.hashes, 2 do
  hashes[#hashes + 1], locations[#locations + 1] = pack_hash(state.hashes[i]),
                                                   pack_location(state.hashes[i + 1])
end
map_set(contents(), hashes, locations)
save_counts()
if state.default ~= cjson.null then redis.call('SET', P .. 'default', state.default) end
