-- locations: where the content of each hash is stored.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] JSON list of content hashes
-- Returns: {location or nil, ...}, one for each hash
-- Fails: -

local found = {}
for k, hash in ipairs(cjson.decode(ARGV[4])) do
  local stored = map_get(contents(), pack_hash(hash))
  found[k] = stored and location_of(stored)
end
return found
