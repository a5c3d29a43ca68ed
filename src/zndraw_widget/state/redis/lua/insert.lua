-- insert: add frames at positions, one change of the frame order.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] JSON [[index, id, version, hash, location], ...] inserted in turn,
-- [6] session, [7] the order version the change is based on ('' for unchecked),
-- [8] record: 'do', 'undo' or 'redo', [9] idempotency key ('' for none), [10] its digest
-- Returns: {seq, order_version, {frames_inserted event JSON}}; for a repeated key
-- {seq, order_version, {}, versions JSON} of the first time
-- no items: nothing changes (a key is remembered)
-- Fails: no_room, key_reused, locked, order_changed, insert_position, frame_exists

local room, items, session, base, kind = ARGV[4], cjson.decode(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local R = need_room(room)
local done = recalled(R, ARGV[9], ARGV[10])
if done then return done end
check_order(room, session, base)
if #items == 0 then return remember(R, ARGV[9], ARGV[10], commit(R, {}), {}) end
local length, seen, ids = order_length(R), {}, {}
for k, item in ipairs(items) do ids[k] = item[2] end
local found = in_order(R, ids)
for k, item in ipairs(items) do
  local index, id = item[1], item[2]
  if index < 0 or index > length + k - 1 then fail('insert_position', {index = index}) end
  if seen[id] or found[k] then
    fail('frame_exists', {id = id})
  end
  seen[id] = true
end
place_all(R .. ':order', items)
local indices, set = {}, {}
for k, item in ipairs(items) do indices[k], set[k] = item[1], {item[2], item[3], item[4], item[5]} end
set_frames(R, set)
return remember(R, ARGV[9], ARGV[10],
                order_changed(room, session, kind,
                              json_object({op = 'delete'}, {ids = json_list(ids)}),
                              'frames_inserted', indices, ids), {})
