-- create_room: a new room, optionally with copies of frames (new ids, same content).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] JSON [[version, hash, location], ...] of the copied frames,
-- [6] JSON list of their new ids, [7] creation time (s), [8] owner JSON (null: none)
-- Returns: nothing
-- Fails: room_exists

local room, refs, ids, created = ARGV[4], cjson.decode(ARGV[5]), cjson.decode(ARGV[6]), ARGV[7]
local R = room_key(room)
if redis.call('EXISTS', R) == 1 then fail('room_exists', {room = room}) end
redis.call('HSET', R, 'seq', 0, 'order_version', 0, 'step', 0, 'created', created)
local owner = cjson.decode(ARGV[8])
if owner ~= cjson.null then redis.call('HSET', R, 'owner', owner) end
redis.call('ZADD', P .. 'rooms', 0, room)
local copied, set = {}, {}
for k = 1, math.min(#refs, #ids) do
  copied[k], set[k] = ids[k], {ids[k], 1, refs[k][2], refs[k][3]}
end
set_frames(R, set)
start_order(R, copied)
save_counts()
