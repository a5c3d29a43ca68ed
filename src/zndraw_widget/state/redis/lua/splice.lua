-- splice: one change of any shape: update frames, then delete frames, then insert frames
-- (an id just deleted may be inserted again: a move); one order version, one event, one
-- undo record (itself a splice).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] JSON list of ids to delete, [6] JSON [[index, id, version, hash,
-- location], ...] inserted in turn after the deletes, [7] JSON [[id, base, hash,
-- location], ...] updates (base: the frame's version, or for undo/redo the content hash it
-- must still have), [8] session, [9] the order version the change is based on ('' for
-- unchecked), [10] record: 'do', 'undo' or 'redo', [11] undo group ('' for none),
-- [12] idempotency key ('' for none), [13] its digest
-- Returns: {seq, order_version, {frames_spliced event JSON}, JSON [version of each update]};
-- for a repeated key {seq, order_version, {}, versions JSON} of the first time
-- Fails: no_room, key_reused, locked, order_changed, frames_missing, splice_overlap, frame_gone,
-- frame_changed, frame_version, insert_position, frame_exists

local room, dels, items, changes = ARGV[4], cjson.decode(ARGV[5]), cjson.decode(ARGV[6]),
                                   cjson.decode(ARGV[7])
local session, base, kind, group = ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local R = need_room(room)
local done = recalled(R, ARGV[12], ARGV[13])
if done then return done end
check_order(room, session, base)
-- check everything
local gone, unique, unique_refs, missing = {}, {}, {}, {}
for k, stored in ipairs(stored_refs(R, dels)) do
  local id = dels[k]
  if not stored then missing[#missing + 1] = id
  elseif not gone[id] then
    gone[id] = true
    unique[#unique + 1] = id
    unique_refs[#unique] = stored
  end
end
if #missing > 0 then
  fail('frames_missing', {missing = missing,
                          current_version = tonumber(redis.call('HGET', R, 'order_version'))})
end
local currents = check_changes(room, R, changes, session, gone)
local length, seen, item_ids = order_length(R) - #unique, {}, {}
for k, item in ipairs(items) do item_ids[k] = item[2] end
local found = in_order(R, item_ids)
for k, item in ipairs(items) do
  local index, id = item[1], item[2]
  if index < 0 or index > length + k - 1 then fail('insert_position', {index = index}) end
  if seen[id] or (not gone[id] and found[k]) then
    fail('frame_exists', {id = id})
  end
  seen[id] = true
end
-- update
local inverse_update, versions = update_frames(R, changes, currents)
local updated_ids = {}
for k, change in ipairs(changes) do updated_ids[k] = change[1] end
-- delete (the inverse inserts each frame back at its position, in order of position)
local deleted, deleted_ids = {}, {}
local inverse_insert = remove_frames(R, unique, unique_refs)
for k, item in ipairs(inverse_insert) do deleted[k], deleted_ids[k] = item[1], item[2] end
-- insert
if #items > 0 then place_all(R .. ':order', items) end
local inserted, inserted_ids, set = {}, {}, {}
for k, item in ipairs(items) do
  inserted[k], inserted_ids[k], set[k] = item[1], item[2], {item[2], item[3], item[4], item[5]}
end
set_frames(R, set)
local updated = {}
for k, id in ipairs(updated_ids) do updated[k] = rank(R, id) end
-- record, tell
local order_version = redis.call('HINCRBY', R, 'order_version', 1)
local fields = {op = 'splice'}
if group ~= '' and kind == 'do' then fields.group = group end
local inverse = {delete = json_list(inserted_ids), insert = json_list(inverse_insert),
                 update = json_list(inverse_update)}
local stack = R .. ':records:' .. session .. ':undo'
local top = fields.group and #inverse_insert == 0 and #inverse_update == 0
            and redis.call('LINDEX', stack, -1)
top = top and cjson.decode(top)
if top and top.op == 'splice' and top.group == group and #top.insert == 0
    and #top.update == 0 then  -- one more commit of the same group: merge the records
  for _, id in ipairs(inserted_ids) do top.delete[#top.delete + 1] = id end
  redis.call('LSET', stack, -1, json_object({op = 'splice', group = group},
                                            {delete = json_list(top.delete), insert = '[]',
                                             update = '[]'}))
  redis.call('DEL', R .. ':records:' .. session .. ':redo')
else
  record(R, session, kind, json_object(fields, inverse))
end
local event = emit(room, {type = 'frames_spliced', order_version = order_version,
                          length = order_length(R)},
                   {deleted = json_list(deleted), deleted_ids = json_list(deleted_ids),
                    inserted = json_list(inserted), inserted_ids = json_list(inserted_ids),
                    updated = json_list(updated), updated_ids = json_list(updated_ids)}, true)
local reply = remember(R, ARGV[12], ARGV[13], commit(R, {event}), versions)
reply[4] = json_list(versions)
return reply
