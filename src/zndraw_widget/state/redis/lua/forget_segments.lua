-- forget_segments: drop the content hashes stored in the given segments, some buckets of
-- the map at a time (a split moves entries to a later bucket only, so going up from 0 in
-- calls sees every entry).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] JSON list of segment names, [5] the first bucket, [6] how many buckets
-- Returns: the bucket to go on from, or -1 after the last
-- Fails: -

-- a location is in a segment if its text up to its last '/' is the segment's name ('' when
-- it has none); a packed location's first 8 bytes are its segment's, packed
local named, packed = {}, {}
for _, segment in ipairs(cjson.decode(ARGV[4])) do
  named[segment] = true
  local bytes = #segment == 16 and from_hex(segment)
  if bytes then packed[bytes] = true end
end
local function stale(location)
  if #location == LOCATION then return packed[sub(location, 1, ID)] end
  return named[string.match(text_of(location, LOCATION), '^(.*)/') or '']
end

local first, count, map = tonumber(ARGV[5]), tonumber(ARGV[6]), contents()
local last = math.min(first + count, map.n) - 1
each_bucket(map, 'HGETALL', function(name, stored)
  local hashes = {}
  for i = 1, #stored, 2 do
    if stale(stored[i + 1]) then hashes[#hashes + 1] = stored[i] end
  end
  if #hashes > 0 then bucket_del(map, name, hashes) end
end, first, last)
save_counts()
if last + 1 >= map.n then return -1 end
return last + 1
