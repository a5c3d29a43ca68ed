-- frame_segments: the storage segments of the current versions of a room's frames (for
-- the segments in use), without unpacking their refs.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room
-- Returns: {JSON [segment, ...] of the packed locations (each once), JSON [location, ...]
-- of the others (each once; Python finds their segments)}; empty for a room that is gone
-- Fails: -

local segments, others, seen = {}, {}, {}
each_bucket(frames_of(room_key(ARGV[4])), 'HVALS', function(_, refs)
  for _, stored in ipairs(refs) do
    local _, at = count_at(stored, 1)  -- past the version
    local length, start = count_at(stored, at)
    local location = sub(stored, start + length)
    local segment = #location == LOCATION and sub(location, 1, ID)
    if segment then
      if not seen[segment] then
        seen[segment] = true
        segments[#segments + 1] = to_hex(segment)
      end
    else
      location = text_of(location, LOCATION)
      if not seen[location] then
        seen[location] = true
        others[#others + 1] = location
      end
    end
  end
end)
return {json_list(segments), json_list(others)}
