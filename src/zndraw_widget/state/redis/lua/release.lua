-- release: give up a lease the session holds; tell the room.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] target, [6] session
-- Returns: 1 if released, 0 if there was no live lease
-- Fails: held

local room, target, session = ARGV[4], ARGV[5], ARGV[6]
local lease = live_lease(room, target)
if not lease then return 0 end
if lease.holder ~= session then fail('held', {holder = lease.holder, target = target}) end
drop_lease(room, target, session)
emit(room, {type = 'lease', target = target, holder = cjson.null, expires = cjson.null})
return 1
