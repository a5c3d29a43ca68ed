-- set_step: set the room's current frame (one of its frames, 0 in an empty room); only the
-- presenter may.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] step, [6] session
-- Returns: nothing
-- Fails: no_room, not_presenter, step_range

local room, step, session = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local R = need_room(room)
local lease = live_lease(room, '$PRESENTER')
if not lease or lease.holder ~= session then
  fail('not_presenter', {holder = lease and lease.holder or cjson.null, target = '$PRESENTER'})
end
local length = order_length(R)
if step < 0 or step >= math.max(length, 1) then
  fail('step_range', {step = step, length = length})
end
redis.call('HSET', R, 'step', ARGV[5])
emit(room, {type = 'step', step = step, holder = session})
