-- forget_segments: drop the content hashes stored in the given segments, some buckets of
-- the map at a time (a split moves entries to a later bucket only, so going up from 0 in
-- calls sees every entry).
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] JSON list of segment names, [5] the first bucket, [6] how many buckets
-- Returns: the bucket to go on from, or -1 after the last
-- Fails: -

local segments, first, count = {}, tonumber(ARGV[5]), tonumber(ARGV[6])
for _, segment in ipairs(cjson.decode(ARGV[4])) do segments[segment] = true end
local map = contents()
local last = math.min(first + count, map.n) - 1
for b = first, last do
  local key, stale = map.key .. ':' .. b, {}
  local stored = redis.call('HGETALL', key)
  for i = 1, #stored, 2 do
    local segment = string.match(location_of(stored[i + 1]), '^(.*)/') or ''
    if segments[segment] then stale[#stale + 1] = stored[i] end
  end
  for _, hash in ipairs(stale) do map_del(map, hash) end
end
save_counts()
if last + 1 >= map.n then return -1 end
return last + 1
