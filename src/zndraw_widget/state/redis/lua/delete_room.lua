-- delete_room: drop a room with its frames, history, records, leases, presence and shared
-- annotations;
-- publish room_deleted.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room
-- Returns: nothing
-- Fails: no_room

local room = ARGV[4]
local R = need_room(room)
for _, target in ipairs(redis.call('SMEMBERS', R .. ':leases')) do
  local value = redis.call('GET', lease_key(room, target))
  drop_lease(room, target, value and cjson.decode(value).holder or '')
end
for _, key in ipairs(redis.call('SMEMBERS', R .. ':keys')) do redis.call('DEL', key) end
for _, kind in ipairs(SHARED_KINDS) do redis.call('DEL', R .. ':shared:' .. kind) end
chunked('DEL', R .. ':refs', bucket_keys(frames_of(R)), 1000)
redis.call('DEL', R, R .. ':order', R .. ':events', R .. ':keys',
           R .. ':leases', R .. ':presence', R .. ':remembered', R .. ':remembered:keys')
redis.call('ZREM', P .. 'rooms', room)
redis.call('ZREM', P .. 'ephemeral', room)
if redis.call('GET', P .. 'default') == room then redis.call('DEL', P .. 'default') end
redis.call('PUBLISH', R .. ':events', live(cjson.encode({type = 'room_deleted', room = room,
                                                         seq = -1})))
