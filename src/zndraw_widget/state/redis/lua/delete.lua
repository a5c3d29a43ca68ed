-- delete: remove frames, one change of the frame order.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] JSON list of ids, [6] session, [7] the order version the change is
-- based on ('' for unchecked), [8] record: 'do', 'undo' or 'redo', [9] idempotency key ('' for
-- none), [10] its digest
-- Returns: {seq, order_version, {frames_deleted event JSON}}; for a repeated key
-- {seq, order_version, {}, versions JSON} of the first time
-- no ids: nothing changes (a key is remembered)
-- Fails: no_room, key_reused, locked, order_changed, frames_missing

local room, ids, session, base, kind = ARGV[4], cjson.decode(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local R = need_room(room)
local done = recalled(R, ARGV[9], ARGV[10])
if done then return done end
check_order(room, session, base)
if #ids == 0 then return remember(R, ARGV[9], ARGV[10], commit(R, {}), {}) end
local missing, stored = {}, stored_refs(R, ids)
for k, id in ipairs(ids) do
  if not stored[k] then missing[#missing + 1] = id end
end
if #missing > 0 then
  fail('frames_missing', {missing = missing,
                          current_version = tonumber(redis.call('HGET', R, 'order_version'))})
end
-- the inverse inserts each frame back at its position, in order of position
local gone, unique, unique_refs, positions = {}, {}, {}, {}
for k, id in ipairs(ids) do
  if not gone[id] then
    gone[id] = true
    unique[#unique + 1] = id
    unique_refs[#unique] = stored[k]
  end
end
local inverse = remove_frames(R, unique, unique_refs)
for k, item in ipairs(inverse) do positions[k] = item[1] end
return remember(R, ARGV[9], ARGV[10],
                order_changed(room, session, kind,
                              json_object({op = 'insert'}, {items = json_list(inverse)}),
                              'frames_deleted', positions, ids), {})
