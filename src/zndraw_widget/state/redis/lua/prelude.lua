-- The shared prelude: scripts.py puts it before every script and fills in the upper-case
-- placeholders (EVENT_LOG_LENGTH, EVENT_LOG_BYTES, GRACE_MS, ORDER, PRESENTER, FRAME,
-- REMEMBERED_KEYS, SHARED_KINDS, GC_KB) from Python's constants.
-- The keys are listed in store.py; every key is built from the prefix, so this needs a
-- single Redis, not a cluster.
-- ARGV[1..3] of every script: key prefix, history depth, record depth; its own follow.
-- A failing script calls fail(kind, details): kind is a value of state/failures.py's
-- Failure, details its keyword arguments.
-- Per-frame state is compact (layout format 3, migrate.lua): ids, content hashes and
-- locations packed into bytes ("compact values"); a room's frames (id -> version, hash,
-- location) and the shared content hash -> location in bucketed maps of small hashes that
-- Redis keeps listpack-encoded ("bucketed maps"); the order a sorted set of packed ids.
-- Replies, events, history lists and undo records carry the values as they are.

local P, HISTORY_DEPTH, RECORD_DEPTH = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

-- The garbage a big script leaves (tens of MB for an insert of 50,000 frames) would be swept
-- by Lua's incremental collector over many later calls, each made slower: past GC_KB of
-- heap the next script collects it at once (the live heap is a few MB).
if collectgarbage('count') > $GC_KB then collectgarbage('collect') end

local function fail(kind, details)  -- abort, changing nothing; Python raises the error
  error({err = 'zdw ' .. kind .. ' ' .. cjson.encode(details)})
end

-- cjson encodes an empty table as {}: lists that may be empty go through json_list
local function json_list(t)
  if #t == 0 then return '[]' end
  return cjson.encode(t)
end

-- `fields` (never empty) as a JSON object, plus `lists`: name -> JSON from json_list
local function json_object(fields, lists)
  local json = cjson.encode(fields)
  for name, list in pairs(lists or {}) do
    json = string.sub(json, 1, -2) .. ',' .. cjson.encode(name) .. ':' .. list .. '}'
  end
  return json
end

-- redis.call(command, key, ...args) in chunks (unpack has a size limit); replies joined
local function chunked(command, key, args, size)
  local replies = {}
  for i = 1, #args, size do
    local reply = redis.call(command, key, unpack(args, i, math.min(i + size - 1, #args)))
    if type(reply) == 'table' then
      for _, value in ipairs(reply) do replies[#replies + 1] = value end
    end
  end
  return replies
end

local function room_key(room) return P .. 'room:' .. room end
-- the hashes of a room's shared annotations (set_shared.lua): kind -> key
local SHARED_KINDS = $SHARED_KINDS

-- compact values -------------------------------------------------------------------------
-- Frame ids, content hashes and locations are stored packed: an id of 16 lower-case hex
-- digits (as the server makes them) as its 8 bytes, a hash 'sha256:' + 64 lower-case hex
-- digits as its 32-byte digest, a location '<16 lower-case hex>/<row>' (row < 2^32,
-- written without leading zeros) as the segment's 8 bytes and the row's 4 (big-endian);
-- any other text as itself, with a '\0' appended when it is at least as long as the
-- packed form, so that exactly the packed ones have that width.
local ID, HASH, LOCATION = 8, 32, 12  -- the packed widths

local HEX = {[8] = {'>I4I4', '%08x%08x'}, [32] = {'>I4I4I4I4I4I4I4I4', string.rep('%08x', 8)}}

local sub = string.sub
local function from_hex(hex)  -- 16 or 64 lower-case hex digits as their bytes, or nil
  if string.find(hex, '[^0-9a-f]') then return nil end
  if #hex == 16 then
    return struct.pack('>I4I4', tonumber(sub(hex, 1, 8), 16), tonumber(sub(hex, 9, 16), 16))
  end
  return struct.pack('>I4I4I4I4I4I4I4I4', tonumber(sub(hex, 1, 8), 16),
                     tonumber(sub(hex, 9, 16), 16), tonumber(sub(hex, 17, 24), 16),
                     tonumber(sub(hex, 25, 32), 16), tonumber(sub(hex, 33, 40), 16),
                     tonumber(sub(hex, 41, 48), 16), tonumber(sub(hex, 49, 56), 16),
                     tonumber(sub(hex, 57, 64), 16))
end

local function to_hex(bytes)  -- 8 or 32 bytes as lower-case hex digits
  local f = HEX[#bytes]
  return string.format(f[2], struct.unpack(f[1], bytes))
end

local function as_text(text, width)  -- a value without a packed form, as stored
  if #text >= width then return text .. '\0' end
  return text
end

local function text_of(stored, width)
  if #stored > width then return string.sub(stored, 1, -2) end
  return stored
end

local packed_ids = {}  -- this script's: id -> packed
local function pack_id(id)
  local packed = packed_ids[id]
  if not packed then
    packed = (#id == 16 and from_hex(id)) or as_text(id, ID)
    packed_ids[id] = packed
  end
  return packed
end

local function id_of(stored)
  if #stored == ID then return to_hex(stored) end
  return text_of(stored, ID)
end

local function pack_hash(hash)
  return (#hash == 71 and string.sub(hash, 1, 7) == 'sha256:' and from_hex(string.sub(hash, 8)))
         or as_text(hash, HASH)
end

local function hash_of(stored)
  if #stored == HASH then return 'sha256:' .. to_hex(stored) end
  return text_of(stored, HASH)
end

local function pack_location(location)
  local segment, row = string.match(location, '^(' .. string.rep('%x', 16) .. ')/(%d+)$$')
  local n = tonumber(row)
  local bytes = n and n < 4294967296 and string.format('%d', n) == row and from_hex(segment)
  if bytes then return bytes .. struct.pack('>I4', n) end
  return as_text(location, LOCATION)
end

local function location_of(stored)
  if #stored == LOCATION then
    return string.format('%08x%08x/%d', struct.unpack('>I4I4I4', stored))
  end
  return text_of(stored, LOCATION)
end

local function pack_count(n)  -- 0 <= n < 2^32: one byte below 255, else 5
  if n < 255 then return string.char(n) end
  return '\255' .. struct.pack('>I4', n)
end

local function count_at(s, at)  -- the count packed at `at` of s, and the position after it
  local b = string.byte(s, at)
  if b < 255 then return b, at + 1 end
  return (struct.unpack('>I4', s, at + 1)), at + 5
end

-- A frame's current version [version, hash, location] as stored: the version, the packed
-- hash's length, the packed hash, the packed location (46 bytes for the server's).
local function pack_ref(version, hash, location)  -- hash and location packed
  return pack_count(version) .. pack_count(#hash) .. hash .. location
end

local function pack_ref_of(ref)  -- ref: {version, hash, location} as they are
  return pack_ref(ref[1], pack_hash(ref[2]), pack_location(ref[3]))
end

local function ref_of(stored)  -- {version, hash, location}
  local version, at = count_at(stored, 1)
  local length, start = count_at(stored, at)
  return {version, hash_of(string.sub(stored, start, start + length - 1)),
          location_of(string.sub(stored, start + length))}
end

-- ref_of as JSON: one string.format for the server's values (with '/' where cjson writes
-- '\/', the same JSON)
local COMPACT_REF = '[%d,"sha256:' .. string.rep('%08x', 8) .. '","%08x%08x/%d"]'
local function ref_json(stored)
  local version, length = string.byte(stored, 1, 2)
  if version < 255 and length == HASH and #stored == 2 + HASH + LOCATION then
    return string.format(COMPACT_REF, version, struct.unpack('>I4I4I4I4I4I4I4I4I4I4I4', stored, 3))
  end
  return cjson.encode(ref_of(stored))
end

-- bucketed maps ---------------------------------------------------------------------------
-- A map of many entries (a room's frames; the shared content hash -> location) is the small
-- hashes M:0 .. M:{n-1}, kept under hash-max-listpack-entries (128 by default) so that each
-- stays a listpack, where an entry costs its bytes and a few more (a big hash's entry costs
-- ~70 more). The hash M holds n and count (absent: 1 and 0). Linear hashing: with
-- 2^k <= n < 2^(k+1), a key whose hash is h is in bucket h % 2^(k+1), or h % 2^k if that
-- is >= n; once count passes MAP_LOAD * n, bucket n - 2^k is split into itself and bucket
-- n, so the map grows a bucket at a time and a bucket holds ~MAP_LOAD entries, at most
-- ~2 MAP_LOAD. Buckets never merge.
local MAP_LOAD = 40
-- The maps this script opened: M -> {key, width, n, low = 2^k, count, counted (false
-- while count is not saved: a script that changes a map calls save_counts, commit does),
-- names: bucket -> its key}
local maps = {}

local function open_map(M, width)  -- width: of the packed keys (hashed by their bytes)
  local map = maps[M]
  if not map then
    local h = redis.call('HMGET', M, 'n', 'count')
    map = {key = M, width = width, n = tonumber(h[1]) or 1, count = tonumber(h[2]) or 0,
           counted = true, low = 1, names = {}}
    while map.low * 2 <= map.n do map.low = map.low * 2 end
    maps[M] = map
  end
  return map
end

local function slot(map, key)  -- h % 2^(k+1): packed keys' first bytes are random
  local h = 0
  if #key == map.width then
    h = struct.unpack('>I4', key)
  else
    for i = 1, #key do h = (h * 31 + string.byte(key, i)) % 4294967296 end
  end
  return h % (2 * map.low)
end

local function bucket_name(map, b)  -- the key of bucket b
  local name = map.names[b]
  if not name then
    name = map.key .. ':' .. b
    map.names[b] = name
  end
  return name
end

local function bucket(map, key)  -- the key of the bucket holding `key`
  local b = slot(map, key)
  if b >= map.n then b = b - map.low end
  return bucket_name(map, b)
end

-- keys grouped by bucket: bucket key -> {keys = its keys, at = their positions in keys}
local function by_bucket(map, keys)
  local groups = {}
  for k, key in ipairs(keys) do
    local name = bucket(map, key)
    local group = groups[name]
    if not group then
      group = {keys = {}, at = {}}
      groups[name] = group
    end
    group.keys[#group.keys + 1], group.at[#group.at + 1] = key, k
  end
  return groups
end

-- The keys of buckets first..last of the map (by default all of them), in turn; every
-- walk over a map's buckets goes through this.
local function bucket_keys(map, first, last)
  local keys = {}
  for b = first or 0, last or map.n - 1 do keys[#keys + 1] = bucket_name(map, b) end
  return keys
end

-- visit(bucket key, reply) for buckets first..last (by default all), the reply that of
-- `command` ('HGETALL' or 'HVALS') on the bucket
local function each_bucket(map, command, visit, first, last)
  for _, name in ipairs(bucket_keys(map, first, last)) do visit(name, redis.call(command, name)) end
end

local function map_get(map, key)  -- the value, or false
  return redis.call('HGET', bucket(map, key), key)
end

local function map_get_all(map, keys)  -- their values (false where absent), by bucket
  local values = {}
  for name, group in pairs(by_bucket(map, keys)) do
    for i, value in ipairs(chunked('HMGET', name, group.keys, 1000)) do
      values[group.at[i]] = value
    end
  end
  return values
end

local function split(map)  -- bucket n - 2^k into itself and the new bucket n
  local from, to = bucket_name(map, map.n - map.low), bucket_name(map, map.n)
  local entries, moved, keys = redis.call('HGETALL', from), {}, {}
  for i = 1, #entries, 2 do
    if slot(map, entries[i]) == map.n then
      moved[#moved + 1], moved[#moved + 2] = entries[i], entries[i + 1]
      keys[#keys + 1] = entries[i]
    end
  end
  if #keys > 0 then
    redis.call('HSET', to, unpack(moved))
    redis.call('HDEL', from, unpack(keys))
  end
  map.n = map.n + 1
  if map.n == 2 * map.low then map.low = 2 * map.low end
  redis.call('HSET', map.key, 'n', map.n)
end

-- Set keys[k] to values[k]: the map first grows as if `added` of them (by default all)
-- were new (so no bucket passes ~2 MAP_LOAD), then each bucket takes its entries in one
-- HSET.
local function map_set(map, keys, values, added)
  while map.count + (added or #keys) > MAP_LOAD * map.n do split(map) end
  for name, group in pairs(by_bucket(map, keys)) do
    local args = {}
    for i, key in ipairs(group.keys) do args[2 * i - 1], args[2 * i] = key, values[group.at[i]] end
    for i = 1, #args, 1000 do
      map.count = map.count + redis.call('HSET', name, unpack(args, i, math.min(i + 999, #args)))
    end
  end
  map.counted = false
end

local function bucket_del(map, name, keys)  -- keys out of bucket `name` (theirs)
  for i = 1, #keys, 1000 do
    map.count = map.count - redis.call('HDEL', name, unpack(keys, i, math.min(i + 999, #keys)))
  end
  map.counted = false
end

local function map_del_all(map, keys)  -- one HDEL per bucket
  for name, group in pairs(by_bucket(map, keys)) do bucket_del(map, name, group.keys) end
end

local function save_counts()  -- of the maps this script changed: before it ends
  for M, map in pairs(maps) do
    if not map.counted then
      redis.call('HSET', M, 'count', map.count)
      map.counted = true
    end
  end
end

-- frames and contents --------------------------------------------------------------------
-- R:refs: frame id -> its current version, packed (pack_ref); contents: content hash ->
-- location, shared by all rooms; both bucketed maps.
local function frames_of(R) return open_map(R .. ':refs', ID) end
local function contents() return open_map(P .. 'contents', HASH) end

local function get_ref(R, id)  -- {version, hash, location} of frame id, or nil
  local stored = map_get(frames_of(R), pack_id(id))
  if stored then return ref_of(stored) end
  return nil
end

local function stored_refs(R, ids)  -- the frames' packed refs, false for those not in R
  local keys = {}
  for k, id in ipairs(ids) do keys[k] = pack_id(id) end
  return map_get_all(frames_of(R), keys)
end

-- the order ------------------------------------------------------------------------------
-- R:order: sorted set of the packed frame ids scored by position (fractional indexing)
local function order_length(R) return redis.call('ZCARD', R .. ':order') end
local function rank(R, id) return redis.call('ZRANK', R .. ':order', pack_id(id)) end

local function in_order(R, ids)  -- for each id: whether the room has it (one ZMSCORE)
  local packed = {}
  for k, id in ipairs(ids) do packed[k] = pack_id(id) end
  return chunked('ZMSCORE', R .. ':order', packed, 1000)
end

local function order_range(R, lo, hi)  -- the ids at positions lo..hi, packed
  return redis.call('ZRANGE', R .. ':order', lo, hi)
end

local function start_order(R, ids)  -- the order of an empty room: ids, in turn
  local args = {}
  for k, id in ipairs(ids) do args[2 * k - 1], args[2 * k] = k, pack_id(id) end
  chunked('ZADD', R .. ':order', args, 1000)
end

local function need_room(room)  -- the room's key
  local R = room_key(room)
  if redis.call('EXISTS', R) == 0 then fail('no_room', {room = room}) end
  return R
end

-- {name, length, seq, order_version, step, created, owner or false, grants JSON or false,
-- description or false, expires or false}
local function info(room)
  local R = room_key(room)
  local h = redis.call('HMGET', R, 'seq', 'order_version', 'step', 'created', 'owner', 'grants',
                       'description', 'expires')
  return {room, order_length(R), tonumber(h[1]), tonumber(h[2]),
          tonumber(h[3]), h[4], h[5], h[6], h[7], h[8]}
end

local function now_ms()  -- the Redis server's clock, the same for every server process
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The JSON object `json` with the time it is published: the Redis server's clock, unix
-- seconds (published events carry it; the room's log leaves it out)
local function live(json)
  local t = redis.call('TIME')
  return string.sub(json, 1, -2) .. string.format(',"time":%s.%06d}', t[1], tonumber(t[2]))
end

-- Publish an event of `room` (adding room, seq and time) and return it; a data change bumps
-- seq and is logged, without its time (the log keeps the last EVENT_LOG_LENGTH events and
-- EVENT_LOG_BYTES of them, the newest always; the room's `event_bytes` counts its bytes).
local function emit(room, event, lists, data)
  local R = room_key(room)
  event.room = room
  if data then
    event.seq = redis.call('HINCRBY', R, 'seq', 1)
  else
    event.seq = tonumber(redis.call('HGET', R, 'seq'))
  end
  local json = json_object(event, lists)
  if data then
    local log = R .. ':events'
    local bytes = redis.call('HINCRBY', R, 'event_bytes', #json)
    local length = redis.call('RPUSH', log, json)
    while length > 1 and (length > $EVENT_LOG_LENGTH or bytes > $EVENT_LOG_BYTES) do
      bytes = redis.call('HINCRBY', R, 'event_bytes', -#redis.call('LPOP', log))
      length = length - 1
    end
  end
  json = live(json)
  redis.call('PUBLISH', R .. ':events', json)
  return json
end

local function commit(R, events)  -- the reply of a data change (its maps' counts saved)
  save_counts()
  local h = redis.call('HMGET', R, 'seq', 'order_version')
  return {tonumber(h[1]), tonumber(h[2]), events}
end

-- leases ---------------------------------------------------------------------------------
local function lease_key(room, target) return room_key(room) .. ':lease:' .. target end
local function session_key(session) return P .. 'session:' .. session .. ':leases' end
-- the rooms a session is present in, for dropping them when its process dies
local function rooms_key(session) return P .. 'session:' .. session .. ':rooms' end

local function live_lease(room, target)  -- the lease on `target` unless it expired
  local value = redis.call('GET', lease_key(room, target))
  if value then
    local lease = cjson.decode(value)
    if lease.expires > now_ms() then return lease end
  end
  return nil
end

local function check_lease(room, target, session)  -- fails if someone else holds `target`
  local lease = live_lease(room, target)
  if lease and lease.holder ~= session then
    fail('locked', {holder = lease.holder, target = target, expires = lease.expires / 1000})
  end
end

-- Check changes {{id, base, ...}, ...} to frames of `room` (R its key): each fails unless
-- its frame exists, no one else holds its lease and it is at `base`: its version, or
-- (undo/redo) the content hash it must still have; with `gone` (ids deleted by the same
-- change: true), unless it is not one of them. The frames' current {version, hash,
-- location}, read once, by change.
local function check_changes(room, R, changes, session, gone)
  local ids = {}
  for k, change in ipairs(changes) do ids[k] = change[1] end
  local currents = stored_refs(R, ids)
  for k, change in ipairs(changes) do
    local id, base = change[1], change[2]
    if gone and gone[id] then fail('splice_overlap', {id = id}) end
    if not currents[k] then fail('frame_gone', {id = id}) end
    local current = ref_of(currents[k])
    currents[k] = current
    check_lease(room, '$FRAME' .. id, session)
    if type(base) == 'string' and current[2] ~= base then
      fail('frame_changed', {id = id, current_version = current[1]})
    elseif type(base) ~= 'string' and current[1] ~= base then
      fail('frame_version', {id = id, current_version = current[1], base = base})
    end
  end
  return currents
end

local function save_lease(room, target, holder, expires, ttl, user)  -- user: nil if unknown
  local key = lease_key(room, target)
  local value = cjson.encode({room = room, target = target, holder = holder, expires = expires,
                              user = user})
  redis.call('SET', key, value, 'PX', math.max(ttl + $GRACE_MS, 1))
  redis.call('ZADD', P .. 'leases', expires, key)
  redis.call('SADD', session_key(holder), key)
  redis.call('SADD', room_key(room) .. ':leases', target)
end

local function drop_lease(room, target, holder)
  local key = lease_key(room, target)
  redis.call('DEL', key)
  redis.call('ZREM', P .. 'leases', key)
  redis.call('SREM', session_key(holder), key)
  redis.call('SREM', room_key(room) .. ':leases', target)
end

-- frames ---------------------------------------------------------------------------------
local function check_order(room, session, base)  -- base: '' when not checked
  check_lease(room, '$ORDER', session)
  local current = tonumber(redis.call('HGET', room_key(room), 'order_version'))
  if base ~= '' and tonumber(base) ~= current then
    fail('order_changed', {current_version = current, base = tonumber(base)})
  end
end

-- A frame's past versions (its current one is its value in R:refs) are the list
-- R:history:{id}: the last HISTORY_DEPTH - 1 while the frame is in the room, HISTORY_DEPTH
-- once it was deleted (its last version joins them, for undo and live segments); all of
-- them if HISTORY_DEPTH <= 0. A frame with one version has no such key.
local function trim_past(R, id, kept)
  if HISTORY_DEPTH <= 0 then return end
  local history = R .. ':history:' .. id
  if kept > 0 then
    redis.call('LTRIM', history, -kept, -1)
  elseif redis.call('DEL', history) == 1 then
    redis.call('SREM', R .. ':keys', history)
  end
end

local function to_past(R, id, ref, kept)  -- ref: {version, hash, location} of frame id
  if HISTORY_DEPTH > 0 and kept <= 0 then return trim_past(R, id, 0) end
  local history = R .. ':history:' .. id
  local length = redis.call('RPUSH', history, cjson.encode(ref))
  redis.call('SADD', R .. ':keys', history)
  if HISTORY_DEPTH > 0 and length > kept then redis.call('LTRIM', history, -kept, -1) end
end

-- Write the current versions refs {{id, version, hash, location}, ...} (a repeated id:
-- the last) and their contents; `added`: how many of the frames may be new (default all).
local function write_frames(R, refs, added)
  local keys, values, hashes, locations = {}, {}, {}, {}
  for k, ref in ipairs(refs) do
    hashes[k], locations[k] = pack_hash(ref[3]), pack_location(ref[4])
    keys[k], values[k] = pack_id(ref[1]), pack_ref(ref[2], hashes[k], locations[k])
  end
  map_set(frames_of(R), keys, values, added)
  map_set(contents(), hashes, locations)
end

-- Add new frames: refs {{id, version, hash, location}, ...}, distinct ids none of which is
-- in the room (checked before).
local function set_frames(R, refs)
  -- a new frame may have a past (deleted before, back by undo): R:keys lists those
  if HISTORY_DEPTH > 0 then
    local histories = {}
    for k, ref in ipairs(refs) do histories[k] = R .. ':history:' .. ref[1] end
    for k, member in ipairs(chunked('SMISMEMBER', R .. ':keys', histories, 1000)) do
      if member == 1 then trim_past(R, refs[k][1], HISTORY_DEPTH - 1) end
    end
  end
  write_frames(R, refs)
end

-- Give frames new content: changes {{id, base, hash, location}, ...} checked by
-- check_changes, currents what it returned (an id may repeat: each change is a version).
-- Each frame's current version goes to its past. The inverse changes {{id, hash, old hash,
-- old location}, ...} and the new versions, by change.
local function update_frames(R, changes, currents)
  local latest, inverse, versions, refs = {}, {}, {}, {}
  for k, change in ipairs(changes) do
    local id, hash, location = change[1], change[3], change[4]
    local old = latest[id] or currents[k]
    local version = old[1] + 1
    to_past(R, id, old, HISTORY_DEPTH - 1)
    latest[id] = {version, hash, location}
    versions[k], inverse[k] = version, {id, hash, old[2], old[3]}
    refs[k] = {id, version, hash, location}
  end
  write_frames(R, refs, 0)
  return inverse, versions
end

-- Move frames ids (no repeats; stored: their packed refs) to their past and out of the
-- room: their {position, id, version, hash, location}, by position (an insert's items that
-- bring them back).
local function remove_frames(R, ids, stored)
  local removed, packed = {}, {}
  for k, id in ipairs(ids) do
    local ref = ref_of(stored[k])
    to_past(R, id, ref, HISTORY_DEPTH)
    removed[k] = {rank(R, id), id, ref[1], ref[2], ref[3]}
    packed[k] = pack_id(id)
  end
  table.sort(removed, function(a, b) return a[1] < b[1] end)
  chunked('ZREM', R .. ':order', packed, 1000)
  map_del_all(frames_of(R), packed)
  return removed
end

-- Scores for `n` new members at rank `index`: evenly between the neighbours, or counting
-- down from the first or up from the last; nil if floating point has no room left.
local function scores(order, index, n)
  local lo = index > 0 and redis.call('ZRANGE', order, index - 1, index - 1, 'WITHSCORES')[2]
  local hi = redis.call('ZRANGE', order, index, index, 'WITHSCORES')[2]
  lo, hi = lo and tonumber(lo), hi and tonumber(hi)
  local result = {}
  for j = 1, n do
    if lo and hi then result[j] = lo + (hi - lo) * j / (n + 1)
    elseif hi then result[j] = hi - (n + 1 - j)
    else result[j] = (lo or 0) + j end
    local previous = result[j - 1] or lo
    if (previous and result[j] <= previous) or (hi and result[j] >= hi) then return nil end
  end
  return result
end

-- Give every member the score of its rank, 1..n: O(n), only when a gap is used up.
local function renormalise(order)
  local args = {}
  for i, id in ipairs(redis.call('ZRANGE', order, 0, -1)) do
    args[2 * i - 1], args[2 * i] = i, id
  end
  chunked('ZADD', order, args, 1000)
end

-- Add items[first..last] ([index, id, ...] each), which go to consecutive positions, to the
-- order.
local function place(order, items, first, last)
  local index, n = items[first][1], last - first + 1
  local s = scores(order, index, n)
  if not s then
    renormalise(order)
    s = scores(order, index, n)
  end
  local args = {}
  for j = 1, n do
    args[2 * j - 1], args[2 * j] = string.format('%.17g', s[j]), pack_id(items[first + j - 1][2])
  end
  chunked('ZADD', order, args, 1000)
end

-- Add items ([index, id, ...] each, inserted in turn) to the order, run by run.
local function place_all(order, items)
  local first = 1
  for k, item in ipairs(items) do
    local next_item = items[k + 1]
    if not next_item or next_item[1] ~= item[1] + 1 then  -- the end of a run
      place(order, items, first, k)
      first = k + 1
    end
  end
end

-- Push an inverse change: "do" and "redo" onto undo ("do" clears redo), "undo" onto redo.
local function record(R, session, kind, inverse)
  local stacks = R .. ':records:' .. session .. ':'
  local stack = stacks .. (kind == 'undo' and 'redo' or 'undo')
  redis.call('RPUSH', stack, inverse)
  redis.call('LTRIM', stack, -RECORD_DEPTH, -1)
  redis.call('SADD', R .. ':keys', stack)
  if kind == 'do' then redis.call('DEL', stacks .. 'redo') end
end

-- The end of an insert or delete: bump the order's version, push the inverse change, tell.
local function order_changed(room, session, kind, inverse, event_type, indices, ids)
  local R = room_key(room)
  local order_version = redis.call('HINCRBY', R, 'order_version', 1)
  record(R, session, kind, inverse)
  local event = emit(room, {type = event_type, order_version = order_version,
                            length = order_length(R)},
                     {indices = json_list(indices), ids = json_list(ids)}, true)
  return commit(R, {event})
end

-- idempotency keys ----------------------------------------------------------------------
-- R:remembered is a hash key -> JSON [digest, seq, order_version, versions] and
-- R:remembered:keys the list of its keys, oldest first.

-- The reply for a repeated key ('' when the write has none): {seq, order_version, {},
-- versions JSON}, or nil if the key is new; fails if the key came with another request.
local function recalled(R, key, digest)
  if key == '' then return nil end
  local value = redis.call('HGET', R .. ':remembered', key)
  if not value then return nil end
  local entry = cjson.decode(value)
  if entry[1] ~= digest then fail('key_reused', {key = key}) end
  return {entry[2], entry[3], {}, json_list(entry[4])}
end

-- Remember `reply` ({seq, order_version, events}) and `versions` under `key`; the reply.
local function remember(R, key, digest, reply, versions)
  if key == '' then return reply end
  redis.call('HSET', R .. ':remembered', key, '[' .. cjson.encode(digest) .. ',' ..
             string.format('%d,%d,', reply[1], reply[2]) .. json_list(versions) .. ']')
  local keys = R .. ':remembered:keys'
  if redis.call('RPUSH', keys, key) > $REMEMBERED_KEYS then
    redis.call('HDEL', R .. ':remembered', redis.call('LPOP', keys))
  end
  return reply
end
