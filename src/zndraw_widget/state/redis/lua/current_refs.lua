-- current_refs: the current version of every frame of a room (for the segments in use).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room
-- Returns: JSON [[version, hash, location], ...] (empty for a room that is gone)
-- Fails: -

local refs = {}
for _, key in ipairs(map_buckets(room_key(ARGV[4]) .. ':refs')) do
  for _, stored in ipairs(redis.call('HVALS', key)) do refs[#refs + 1] = ref_json(stored) end
end
return '[' .. table.concat(refs, ',') .. ']'
