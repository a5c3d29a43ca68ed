-- update: new content for frames, each checked against its version or content.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] JSON [[id, base, hash, location], ...]; base is the frame's version, or
-- (undo/redo) the content hash the frame must still have, [6] session,
-- [7] record: 'do', 'undo' or 'redo', [8] idempotency key ('' for none), [9] its digest
-- Returns: {seq, order_version, {frame_updated event JSON per change}}; for a repeated key
-- {seq, order_version, {}, versions JSON} of the first time
-- no changes: nothing changes (a key is remembered)
-- Fails: no_room, key_reused, frame_gone, locked, frame_changed, frame_version

-- changes: [[id, base, hash, location], ...]; base: the frame's version, or (undo/redo)
-- the content hash the frame must still have
local room, changes, session, kind = ARGV[4], cjson.decode(ARGV[5]), ARGV[6], ARGV[7]
local R = need_room(room)
local done = recalled(R, ARGV[8], ARGV[9])
if done then return done end
if #changes == 0 then return remember(R, ARGV[8], ARGV[9], commit(R, {}), {}) end
local currents = check_changes(room, R, changes, session)
local inverse, versions = update_frames(R, changes, currents)
local events = {}
for k, change in ipairs(changes) do
  local id = change[1]
  events[k] = emit(room, {type = 'frame_updated', id = id, version = versions[k],
                          frame = rank(R, id)}, nil, true)
end
record(R, session, kind, json_object({op = 'update'}, {frames = json_list(inverse)}))
return remember(R, ARGV[8], ARGV[9], commit(R, events), versions)
