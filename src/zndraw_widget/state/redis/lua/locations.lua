-- locations: where the content of each hash is stored.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] JSON list of content hashes
-- Returns: {location or nil, ...}, one for each hash
-- Fails: -

local packed = {}
for k, hash in ipairs(cjson.decode(ARGV[4])) do packed[k] = pack_hash(hash) end
local found = map_get_all(contents(), packed)  -- one HMGET per bucket, not one HGET a hash
for k, stored in ipairs(found) do found[k] = stored and location_of(stored) end
return found
