-- The shared prelude: scripts.py puts it before every script and fills in the upper-case
-- placeholders (EVENT_LOG_LENGTH, EVENT_LOG_BYTES, GRACE_MS, ORDER, PRESENTER, FRAME,
-- REMEMBERED_KEYS, SHARED_KINDS) from Python's constants.
-- The keys are listed in store.py; every key is built from the prefix, so this needs a
-- single Redis, not a cluster.
-- ARGV[1..3] of every script: key prefix, history depth, record depth; its own follow.
-- A failing script calls fail(kind, details): kind is a value of state/failures.py's
-- Failure, details its keyword arguments.

local P, HISTORY_DEPTH, RECORD_DEPTH = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

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
  return {room, redis.call('ZCARD', R .. ':order'), tonumber(h[1]), tonumber(h[2]),
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

local function commit(R, events)  -- the reply of a data change
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

-- Fails unless frame `id` of hash `frames` exists, no one else holds its lease and it is at
-- `base`: its version, or (undo/redo) the content hash it must still have.
local function check_change(room, frames, id, base, session)
  local value = redis.call('HGET', frames, id)
  if not value then fail('frame_gone', {id = id}) end
  check_lease(room, '$FRAME' .. id, session)
  local current = cjson.decode(value)
  if type(base) == 'string' and current[2] ~= base then
    fail('frame_changed', {id = id, current_version = current[1]})
  elseif type(base) ~= 'string' and current[1] ~= base then
    fail('frame_version', {id = id, current_version = current[1], base = base})
  end
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

-- A frame's past versions (its current one is its value in R:frames) are the list
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

local function to_past(R, id, value, kept)  -- value: a version of frame id, as stored
  local history = R .. ':history:' .. id
  redis.call('RPUSH', history, value)
  redis.call('SADD', R .. ':keys', history)
  trim_past(R, id, kept)
end

local function set_frame(R, id, version, hash, location)  -- the current one to the past
  local frames = R .. ':frames'
  local old = redis.call('HGET', frames, id)
  if old then
    to_past(R, id, old, HISTORY_DEPTH - 1)
  else  -- a new frame, or one deleted before (undo) whose past is kept
    trim_past(R, id, HISTORY_DEPTH - 1)
  end
  redis.call('HSET', frames, id, cjson.encode({version, hash, location}))
  redis.call('HSET', P .. 'hashes', hash, location)
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
    args[2 * j - 1], args[2 * j] = string.format('%.17g', s[j]), items[first + j - 1][2]
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
                            length = redis.call('ZCARD', R .. ':order')},
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
