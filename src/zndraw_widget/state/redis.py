"""Room state in Redis, shared by every server process that uses the same Redis.

Each change is one Lua script: it checks everything, then changes everything and publishes
its events, or fails with ``zdw <kind> <json details>`` and changes nothing; ``_ERRORS``
turns such a failure into the exception :class:`MemoryStore` raises. Times come from the
Redis server's clock, so several server processes agree on lease expiry.

Keys, all under the prefix (scripts build them from ``ARGV[1]``, so this needs a single
Redis, not a cluster):

- ``rooms``: sorted set of room names, all scored 0 (so ordered by name); ``default``
- ``room:{name}``: hash of seq, order_version, step, created
- ``room:{name}:order``: sorted set of frame ids scored by position (fractional indexing)
- ``room:{name}:frames``: hash frame id -> JSON ``[version, hash, location]``
- ``room:{name}:history:{id}``: list of the same JSON, the last ``history_depth`` versions
- ``room:{name}:events``: list of the last ``EVENT_LOG_LENGTH`` data events (JSON); the
  channel of the same name carries every event of the room
- ``room:{name}:records:{session}:undo|redo``: lists of inverse changes (JSON)
- ``room:{name}:keys``: set of the room's history and record keys, for ``delete_room``
- ``room:{name}:presence``: hash session -> user; ``presence`` scores each JSON
  ``[room, session]`` by its expiry (ms), for the sweeper
- ``room:{name}:lease:{target}``: JSON ``{room, target, holder, expires}`` (expires in ms);
  ``room:{name}:leases`` is the set of its targets, ``session:{session}:leases`` the set of
  a session's lease keys and ``leases`` all lease keys scored by expiry, for the sweeper
- ``hashes``: hash content hash -> location, shared by all rooms
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import operator
from collections.abc import Callable, Sequence
from string import Template
from typing import Any, Literal

import redis.asyncio
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

from ..errors import AlreadyExists, BadRequest, Conflict, Locked, NotFound
from .base import (
    EVENT_LOG_LENGTH,
    ORDER,
    PRESENCE_TTL,
    PRESENTER,
    Commit,
    FrameRef,
    IndexSpec,
    Lease,
    QueueSubscription,
    Record,
    Resolved,
    RoomInfo,
    SliceSpec,
    Store,
    frame_target,
    segments_in,
)

log = logging.getLogger(__name__)

# A lease key outlives its expiry by this much, so the sweeper can still report it; if no
# process sweeps, Redis drops it then.
LEASE_GRACE_MS = 60_000

_PRELUDE = """
-- ARGV[1..3]: key prefix, history depth, record depth; each script's arguments follow.
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

local function need_room(room)  -- the room's key
  local R = room_key(room)
  if redis.call('EXISTS', R) == 0 then fail('no_room', {room = room}) end
  return R
end

local function info(room)  -- {name, length, seq, order_version, step, created}
  local R = room_key(room)
  local h = redis.call('HMGET', R, 'seq', 'order_version', 'step', 'created')
  return {room, redis.call('ZCARD', R .. ':order'), tonumber(h[1]), tonumber(h[2]),
          tonumber(h[3]), h[4]}
end

local function now_ms()  -- the Redis server's clock, the same for every server process
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Publish an event of `room` (adding room and seq); a data change bumps seq and is logged.
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
    redis.call('RPUSH', R .. ':events', json)
    redis.call('LTRIM', R .. ':events', -$EVENT_LOG_LENGTH, -1)
  end
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

local function save_lease(room, target, holder, expires, ttl)
  local key = lease_key(room, target)
  local value = cjson.encode({room = room, target = target, holder = holder, expires = expires})
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

local function set_frame(R, id, version, hash, location)  -- and append to its history
  local value = cjson.encode({version, hash, location})
  local history = R .. ':history:' .. id
  redis.call('HSET', R .. ':frames', id, value)
  redis.call('RPUSH', history, value)
  redis.call('LTRIM', history, -HISTORY_DEPTH, -1)
  redis.call('SADD', R .. ':keys', history)
  redis.call('HSET', P .. 'hashes', hash, location)
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
"""


def _lua(body: str) -> str:
    """One script: the shared prelude, then ``body``, with the constants filled in."""
    return Template(_PRELUDE + body).substitute(
        EVENT_LOG_LENGTH=EVENT_LOG_LENGTH, GRACE_MS=LEASE_GRACE_MS, ORDER=ORDER,
        PRESENTER=PRESENTER, FRAME=frame_target(""))


# -- rooms ---------------------------------------------------------------------------------
_CREATE_ROOM = _lua("""
local room, refs, ids, created = ARGV[4], cjson.decode(ARGV[5]), cjson.decode(ARGV[6]), ARGV[7]
local R = room_key(room)
if redis.call('EXISTS', R) == 1 then fail('room_exists', {room = room}) end
redis.call('HSET', R, 'seq', 0, 'order_version', 0, 'step', 0, 'created', created)
redis.call('ZADD', P .. 'rooms', 0, room)
local scores = {}
for k = 1, math.min(#refs, #ids) do
  set_frame(R, ids[k], 1, refs[k][2], refs[k][3])
  scores[2 * k - 1], scores[2 * k] = k, ids[k]
end
chunked('ZADD', R .. ':order', scores, 1000)
""")

_DELETE_ROOM = _lua("""
local room = ARGV[4]
local R = need_room(room)
for _, target in ipairs(redis.call('SMEMBERS', R .. ':leases')) do
  local value = redis.call('GET', lease_key(room, target))
  drop_lease(room, target, value and cjson.decode(value).holder or '')
end
for _, key in ipairs(redis.call('SMEMBERS', R .. ':keys')) do redis.call('DEL', key) end
redis.call('DEL', R, R .. ':order', R .. ':frames', R .. ':events', R .. ':keys',
           R .. ':leases', R .. ':presence')
redis.call('ZREM', P .. 'rooms', room)
if redis.call('GET', P .. 'default') == room then redis.call('DEL', P .. 'default') end
redis.call('PUBLISH', R .. ':events', cjson.encode({type = 'room_deleted', room = room, seq = -1}))
""")

_ROOM_INFO = _lua("""
need_room(ARGV[4])
return info(ARGV[4])
""")

_LIST_ROOMS = _lua("""
local offset, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local rooms = {}
if limit > 0 then
  for k, room in ipairs(redis.call('ZRANGE', P .. 'rooms', offset, offset + limit - 1)) do
    rooms[k] = info(room)
  end
end
return {redis.call('ZCARD', P .. 'rooms'), rooms}
""")

_SET_DEFAULT_ROOM = _lua("""
need_room(ARGV[4])
redis.call('SET', P .. 'default', ARGV[4])
""")

# -- frames --------------------------------------------------------------------------------
# Reply: length, seq, order_version and JSON texts of the indices, ids and [version, hash,
# location] of the selected frames.
_RESOLVE = _lua("""
local room, kind, spec = ARGV[4], ARGV[5], cjson.decode(ARGV[6])
local R = need_room(room)
local order = R .. ':order'
local length = redis.call('ZCARD', order)
local indices = {}
if kind == 'slice' then  -- {start, stop, step}, nulls for None: as slice.indices(length)
  local step = spec[3] == cjson.null and 1 or spec[3]
  if step == 0 then fail('step_zero', {}) end
  local lower, upper = 0, length
  if step < 0 then lower, upper = -1, length - 1 end
  local function bound(value, default)
    if value == cjson.null then return default end
    if value < 0 then return math.max(value + length, lower) end
    return math.min(value, upper)
  end
  local start = bound(spec[1], step < 0 and upper or lower)
  local stop = bound(spec[2], step < 0 and lower or upper)
  local last = step > 0 and stop - 1 or stop + 1  -- range() excludes stop
  for i = start, last, step do indices[#indices + 1] = i end
else
  for k, index in ipairs(spec) do
    local position = index < 0 and index + length or index
    if position < 0 or position >= length then
      fail('index', {index = index, length = length})
    end
    indices[k] = position
  end
end
local ids, lo, hi = {}, math.huge, -1
for _, i in ipairs(indices) do lo, hi = math.min(lo, i), math.max(hi, i) end
if #indices > 0 and hi - lo + 1 <= 4 * #indices then  -- dense enough: read the span
  local span = redis.call('ZRANGE', order, lo, hi)
  for k, i in ipairs(indices) do ids[k] = span[i - lo + 1] end
else
  for k, i in ipairs(indices) do ids[k] = redis.call('ZRANGE', order, i, i)[1] end
end
local refs = chunked('HMGET', R .. ':frames', ids, 1000)
local h = redis.call('HMGET', R, 'seq', 'order_version')
return {length, tonumber(h[1]), tonumber(h[2]), json_list(indices), json_list(ids),
        '[' .. table.concat(refs, ',') .. ']'}
""")

_INSERT = _lua("""
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

-- Add items[first..last], which go to consecutive positions, to the order.
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

-- items: [[index, id, version, hash, location], ...], inserted in turn
local room, items, session, base, kind = ARGV[4], cjson.decode(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local R = need_room(room)
check_order(room, session, base)
local order = R .. ':order'
local length, seen = redis.call('ZCARD', order), {}
for k, item in ipairs(items) do
  local index, id = item[1], item[2]
  if index < 0 or index > length + k - 1 then fail('insert_position', {index = index}) end
  if seen[id] or redis.call('HEXISTS', R .. ':frames', id) == 1 then
    fail('frame_exists', {id = id})
  end
  seen[id] = true
end
local first = 1
for k, item in ipairs(items) do
  local next_item = items[k + 1]
  if not next_item or next_item[1] ~= item[1] + 1 then  -- the end of a run
    place(order, items, first, k)
    first = k + 1
  end
end
local ids, indices = {}, {}
for k, item in ipairs(items) do
  set_frame(R, item[2], item[3], item[4], item[5])
  ids[k], indices[k] = item[2], item[1]
end
return order_changed(room, session, kind, json_object({op = 'delete'}, {ids = json_list(ids)}),
                     'frames_inserted', indices, ids)
""")

_DELETE = _lua("""
local room, ids, session, base, kind = ARGV[4], cjson.decode(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local R = need_room(room)
check_order(room, session, base)
local order, frames = R .. ':order', R .. ':frames'
local missing = {}
for _, id in ipairs(ids) do
  if redis.call('HEXISTS', frames, id) == 0 then missing[#missing + 1] = id end
end
if #missing > 0 then
  fail('frames_missing', {missing = missing,
                          current_version = tonumber(redis.call('HGET', R, 'order_version'))})
end
-- the inverse inserts each frame back at its position, in order of position
local gone, unique, inverse, positions = {}, {}, {}, {}
for _, id in ipairs(ids) do
  if not gone[id] then
    gone[id] = true
    unique[#unique + 1] = id
    local ref = cjson.decode(redis.call('HGET', frames, id))
    inverse[#inverse + 1] = {redis.call('ZRANK', order, id), id, ref[1], ref[2], ref[3]}
  end
end
table.sort(inverse, function(a, b) return a[1] < b[1] end)
for k, item in ipairs(inverse) do positions[k] = item[1] end
chunked('ZREM', order, unique, 1000)
chunked('HDEL', frames, unique, 1000)
return order_changed(room, session, kind,
                     json_object({op = 'insert'}, {items = json_list(inverse)}),
                     'frames_deleted', positions, ids)
""")

_UPDATE = _lua("""
-- changes: [[id, base, hash, location], ...]; base: the frame's version, or (undo/redo)
-- the content hash the frame must still have
local room, changes, session, kind = ARGV[4], cjson.decode(ARGV[5]), ARGV[6], ARGV[7]
local R = need_room(room)
local frames = R .. ':frames'
for _, change in ipairs(changes) do
  local id, base = change[1], change[2]
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
local inverse, events = {}, {}
for k, change in ipairs(changes) do
  local id = change[1]
  local old = cjson.decode(redis.call('HGET', frames, id))
  local version = old[1] + 1
  set_frame(R, id, version, change[3], change[4])
  inverse[k] = {id, change[3], old[2], old[3]}
  events[k] = emit(room, {type = 'frame_updated', id = id, version = version,
                          frame = redis.call('ZRANK', R .. ':order', id)}, nil, true)
end
record(R, session, kind, json_object({op = 'update'}, {frames = json_list(inverse)}))
return commit(R, events)
""")

_FRAME_HISTORY = _lua("""
local room, id = ARGV[4], ARGV[5]
local R = need_room(room)
if redis.call('HEXISTS', R .. ':frames', id) == 0 then fail('no_frame', {id = id, room = room}) end
return '[' .. table.concat(redis.call('LRANGE', R .. ':history:' .. id, 0, -1), ',') .. ']'
""")

# -- undo / redo ---------------------------------------------------------------------------
_POP_RECORD = _lua("""
local R = need_room(ARGV[4])
return redis.call('RPOP', R .. ':records:' .. ARGV[5] .. ':' .. ARGV[6])
""")

_PUSH_RECORD = _lua("""
local R = need_room(ARGV[4])
local stack = R .. ':records:' .. ARGV[5] .. ':' .. ARGV[6]
redis.call('RPUSH', stack, ARGV[7])
redis.call('SADD', R .. ':keys', stack)
""")

# -- leases and the current frame ----------------------------------------------------------
# acquire and renew reply with the new expiry, in ms of the Redis clock.
_ACQUIRE = _lua("""
local room, target, session, ttl = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
need_room(room)
check_lease(room, target, session)
local is_new = live_lease(room, target) == nil
local old = redis.call('GET', lease_key(room, target))
if old and cjson.decode(old).holder ~= session then  -- expired: that session lost it
  redis.call('SREM', session_key(cjson.decode(old).holder), lease_key(room, target))
end
local expires = now_ms() + ttl
save_lease(room, target, session, expires, ttl)
if is_new then
  emit(room, {type = 'lease', target = target, holder = session, expires = expires / 1000})
end
return expires
""")

_RENEW = _lua("""
local room, target, session, ttl = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
need_room(room)
local lease = live_lease(room, target)
if not lease then fail('no_lease', {target = target}) end
if lease.holder ~= session then fail('held', {holder = lease.holder, target = target}) end
local expires = now_ms() + ttl
save_lease(room, target, session, expires, ttl)
return expires
""")

_RELEASE = _lua("""
local room, target, session = ARGV[4], ARGV[5], ARGV[6]
local lease = live_lease(room, target)
if not lease then return 0 end
if lease.holder ~= session then fail('held', {holder = lease.holder, target = target}) end
drop_lease(room, target, session)
emit(room, {type = 'lease', target = target, holder = cjson.null, expires = cjson.null})
return 1
""")

# Expired leases stay for the sweeper (expire_leases) to report.
_RELEASE_ALL = _lua("""
local session = ARGV[4]
local released = {}
for _, key in ipairs(redis.call('SMEMBERS', session_key(session))) do
  local value = redis.call('GET', key)
  local lease = value and cjson.decode(value)
  if not lease or lease.holder ~= session then
    redis.call('SREM', session_key(session), key)  -- gone or taken over after expiring
  elseif lease.expires > now_ms() then
    drop_lease(lease.room, lease.target, session)
    emit(lease.room, {type = 'lease', target = lease.target, holder = cjson.null,
                      expires = cjson.null})
    released[#released + 1] = value
  end
end
return released
""")

_LEASES = _lua("""
local R = need_room(ARGV[4])
local now, leases = now_ms(), {}
for _, target in ipairs(redis.call('SMEMBERS', R .. ':leases')) do
  local value = redis.call('GET', lease_key(ARGV[4], target))
  if value and cjson.decode(value).expires > now then leases[#leases + 1] = value end
end
return leases
""")

_EXPIRE_LEASES = _lua("""
local expired = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', now_ms())) do
  local value = redis.call('GET', key)
  if value then
    local lease = cjson.decode(value)
    drop_lease(lease.room, lease.target, lease.holder)
    emit(lease.room, {type = 'lease', target = lease.target, holder = cjson.null,
                      expires = cjson.null, expired = lease.holder})
    expired[#expired + 1] = value
  else  -- Redis dropped it after its grace period: nobody swept in time
    redis.call('ZREM', P .. 'leases', key)
  end
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', P .. 'presence', '-inf', now_ms())) do
  local room, session = unpack(cjson.decode(member))
  redis.call('ZREM', P .. 'presence', member)
  if redis.call('HDEL', room_key(room) .. ':presence', session) == 1 then
    emit(room, {type = 'presence', session = session, user = cjson.null, present = false})
  end
end
return expired
""")

_SET_STEP = _lua("""
local room, step, session = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local R = need_room(room)
local lease = live_lease(room, '$PRESENTER')
if not lease or lease.holder ~= session then
  fail('not_presenter', {holder = lease and lease.holder or cjson.null, target = '$PRESENTER'})
end
redis.call('HSET', R, 'step', ARGV[5])
emit(room, {type = 'step', step = step, holder = session})
""")

_PRESENCE = _lua("""
local room, session, user, ttl_ms = ARGV[4], ARGV[5], cjson.decode(ARGV[6]), tonumber(ARGV[7])
local R = need_room(room)
local present = R .. ':presence'
local member = cjson.encode({room, session})
local changed
if user == cjson.null then
  changed = redis.call('HDEL', present, session)
  redis.call('ZREM', P .. 'presence', member)
else
  changed = redis.call('HSET', present, session, user)
  redis.call('ZADD', P .. 'presence', now_ms() + ttl_ms, member)
end
if changed == 1 then
  emit(room, {type = 'presence', session = session, user = user, present = user ~= cjson.null})
end
return redis.call('HGETALL', present)
""")

# -- events --------------------------------------------------------------------------------
_EVENTS_SINCE = _lua("""
local R, since = need_room(ARGV[4]), tonumber(ARGV[5])
local seq = tonumber(redis.call('HGET', R, 'seq'))
if since >= seq then return '[]' end
local log = R .. ':events'
local first = seq - redis.call('LLEN', log) + 1  -- every data change is logged: first..seq
if first > since + 1 then return nil end
return '[' .. table.concat(redis.call('LRANGE', log, since + 1 - first, -1), ',') .. ']'
""")

# The event is JSON from Python, an object that is never empty: add the current seq.
_PUBLISH = _lua("""
local R = need_room(ARGV[4])
local seq = redis.call('HGET', R, 'seq')
redis.call('PUBLISH', R .. ':events', string.sub(ARGV[5], 1, -2) .. ',"seq":' .. seq .. '}')
""")


def _changed(frame_id: str) -> str:
    return f"frame {frame_id} was changed since by another change: it cannot be undone or redone"


def _what(target: str) -> str:
    return "the frame order" if target == ORDER else target


# A script's failure kind -> the exception MemoryStore raises, from the failure's details.
_ERRORS: dict[str, Callable[[dict[str, Any]], Exception]] = {
    "no_room": lambda d: NotFound(f"room {d['room']!r} does not exist"),
    "room_exists": lambda d: AlreadyExists(f"room {d['room']!r} already exists"),
    "locked": lambda d: Locked(f"{_what(d['target'])} is locked by {d['holder']}", **d),
    "held": lambda d: Locked(f"{d['target']} is held by {d['holder']}", **d),
    "not_presenter": lambda d: Locked(
        "only the presenter may set the room's frame; request the presenter token first", **d),
    "no_lease": lambda d: NotFound(
        f"no lease on {d['target']} to renew: it expired or was released"),
    "order_changed": lambda d: Conflict(
        f"the frame order changed: it is at version {d['current_version']}, the change was "
        f"based on {d['base']}", current_version=d["current_version"]),
    "frames_missing": lambda d: Conflict(
        f"frames {d['missing']} are no longer in the room", current_version=d["current_version"]),
    "frame_gone": lambda d: Conflict(f"frame {d['id']} is no longer in the room",
                                     current_version=None),
    "frame_version": lambda d: Conflict(
        f"frame {d['id']} is at version {d['current_version']}, the change was based on "
        f"{d['base']}", current_version=d["current_version"], id=d["id"]),
    "frame_changed": lambda d: Conflict(_changed(d["id"]), current_version=d["current_version"],
                                        id=d["id"]),
    "insert_position": lambda d: IndexError(f"insert position {d['index']} out of range"),
    "frame_exists": lambda d: BadRequest(f"frame id {d['id']} already exists"),
    "step_zero": lambda d: BadRequest("slice step cannot be zero"),
    "index": lambda d: IndexError(
        f"frame index {d['index']} out of range for a room of {d['length']} frames"),
    "no_frame": lambda d: NotFound(f"frame {d['id']} is not in room {d['room']!r}"),
}


def _error(error: ResponseError) -> Exception:
    """The exception for a script's ``zdw <kind> <json>`` failure (others pass unchanged)."""
    text = str(error)
    if not text.startswith("zdw "):
        return error
    kind, _, rest = text[4:].partition(" ")
    details, _ = json.JSONDecoder().raw_decode(rest)  # Redis appends the script's name
    return _ERRORS[kind](details)


def _room_info(reply: list[Any]) -> RoomInfo:
    name, length, seq, order_version, step, created = reply
    return RoomInfo(name, length, seq, order_version, step, float(created))


def _lease(value: str) -> Lease:
    lease = json.loads(value)
    return Lease(lease["room"], lease["target"], lease["holder"], lease["expires"] / 1000)


def _commit(reply: list[Any], versions: list[int]) -> Commit:
    seq, order_version, events = reply
    return Commit(seq, order_version, versions, [json.loads(e) for e in events])


def _base(order_base: int | None) -> str:
    return "" if order_base is None else str(order_base)


class RedisStore(Store):
    """Room state in Redis at ``url`` (``redis://``, ``rediss://`` or ``unix://``).

    The connection is made on first use, inside the running event loop.
    """

    def __init__(self, url: str, prefix: str = "zdw:", history_depth: int = 100,
                 record_depth: int = 100) -> None:
        self.url = url
        self.prefix = prefix
        self.history_depth = history_depth
        self.record_depth = record_depth
        self._client: redis.asyncio.Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._pubsub: redis.asyncio.client.PubSub | None = None
        self._reader: asyncio.Task | None = None
        self._subscribers: dict[str, set[QueueSubscription]] = {}  # channel -> subscriptions
        self._subscribed: dict[str, asyncio.Future] = {}  # channel -> SUBSCRIBE confirmed

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is None:
            self._client = redis.asyncio.from_url(self.url, decode_responses=True)
        return self._client

    async def _run(self, source: str, *args: Any) -> Any:
        """Run the script ``source`` with the store's settings and then ``args``."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self._redis().register_script(source)
        try:
            return await script(args=[self.prefix, self.history_depth, self.record_depth, *args])
        except ResponseError as error:
            raise _error(error) from None

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()
        self._client, self._pubsub, self._reader = None, None, None
        self._scripts.clear()
        self._subscribers.clear()
        self._subscribed.clear()

    async def claim_deployment(self, deployment: str) -> str:
        key = self.prefix + "deployment"
        await self._redis().set(key, deployment, nx=True)
        return await self._redis().get(key)

    # -- rooms ----------------------------------------------------------------------------
    async def create_room(self, name: str, copy_of: list[FrameRef], new_ids: list[str],
                          created: float) -> RoomInfo:
        refs = [[r.version, r.hash, r.location] for r in copy_of]
        await self._run(_CREATE_ROOM, name, json.dumps(refs), json.dumps(new_ids), created)
        return RoomInfo(name, min(len(refs), len(new_ids)), 0, 0, 0, created)

    async def delete_room(self, name: str) -> None:
        await self._run(_DELETE_ROOM, name)

    async def room_info(self, name: str) -> RoomInfo:
        return _room_info(await self._run(_ROOM_INFO, name))

    async def list_rooms(self, offset: int, limit: int) -> tuple[int, list[RoomInfo]]:
        total, rooms = await self._run(_LIST_ROOMS, offset, limit)
        return total, [_room_info(room) for room in rooms]

    async def get_default_room(self) -> str | None:
        return await self._redis().get(self.prefix + "default")

    async def set_default_room(self, name: str | None) -> None:
        if name is None:
            await self._redis().delete(self.prefix + "default")
        else:
            await self._run(_SET_DEFAULT_ROOM, name)

    # -- frames ---------------------------------------------------------------------------
    async def resolve(self, room: str, spec: IndexSpec) -> Resolved:
        if isinstance(spec, SliceSpec):
            kind, values = "slice", [spec.start, spec.stop, spec.step]
        else:
            kind, values = "list", list(spec)
        length, seq, order_version, indices, ids, refs = await self._run(
            _RESOLVE, room, kind, json.dumps(values, default=operator.index))
        found = [FrameRef(i, v, h, loc)
                 for i, (v, h, loc) in zip(json.loads(ids), json.loads(refs), strict=True)]
        return Resolved(length, seq, order_version, json.loads(indices), found)

    async def insert(self, room: str, items: list[tuple[int, FrameRef]], *, session: str,
                     order_base: int | None, record: Record = "do") -> Commit:
        wire = [[i, r.id, r.version, r.hash, r.location] for i, r in items]
        reply = await self._run(_INSERT, room, json.dumps(wire, default=operator.index), session,
                                _base(order_base), record)
        return _commit(reply, [r.version for _, r in items])

    async def delete(self, room: str, ids: list[str], *, session: str,
                     order_base: int | None, record: Record = "do") -> Commit:
        reply = await self._run(_DELETE, room, json.dumps(ids), session, _base(order_base), record)
        return _commit(reply, [])

    async def update(self, room: str, changes: list[tuple[str, int, str, str]], *,
                     session: str, record: Record = "do") -> Commit:
        reply = await self._run(_UPDATE, room, json.dumps(changes, default=operator.index),
                                session, record)
        return _commit(reply, [json.loads(event)["version"] for event in reply[2]])

    async def frame_history(self, room: str, frame_id: str) -> list[dict[str, Any]]:
        history = json.loads(await self._run(_FRAME_HISTORY, room, frame_id))
        return [{"version": v, "hash": h} for v, h, _ in history]

    async def locations(self, hashes: Sequence[str]) -> dict[str, str]:
        if not hashes:
            return {}
        found = await self._redis().hmget(self.prefix + "hashes", list(hashes))
        return {h: loc for h, loc in zip(hashes, found, strict=True) if loc is not None}

    # -- undo / redo ----------------------------------------------------------------------
    async def live_segments(self) -> set[str]:
        client = self._redis()
        live: set[str] = set()
        for room in await client.zrange(self.prefix + "rooms", 0, -1):
            key = f"{self.prefix}room:{room}"
            values = await client.hvals(key + ":frames")
            async with client.pipeline(transaction=False) as pipe:
                for kept in await client.smembers(key + ":keys"):  # histories, records
                    pipe.lrange(kept, 0, -1)
                for lists in await pipe.execute():
                    values.extend(lists)
            live |= segments_in([json.loads(value) for value in values])
        return live

    async def forget_segments(self, segments: set[str]) -> None:
        client = self._redis()
        stale = [content async for content, location in
                 client.hscan_iter(self.prefix + "hashes", count=10_000)
                 if location.rpartition("/")[0] in segments]
        for start in range(0, len(stale), 10_000):
            await client.hdel(self.prefix + "hashes", *stale[start : start + 10_000])

    async def pop_record(self, room: str, session: str, stack: Literal["undo", "redo"]
                         ) -> dict[str, Any] | None:
        record = await self._run(_POP_RECORD, room, session, stack)
        return None if record is None else json.loads(record)

    async def push_record(self, room: str, session: str, stack: Literal["undo", "redo"],
                          record: dict[str, Any]) -> None:
        await self._run(_PUSH_RECORD, room, session, stack, json.dumps(record))

    # -- leases and the current frame -----------------------------------------------------
    async def acquire(self, room: str, target: str, session: str, ttl: float) -> Lease:
        expires = await self._run(_ACQUIRE, room, target, session, round(ttl * 1000))
        return Lease(room, target, session, expires / 1000)

    async def renew(self, room: str, target: str, session: str, ttl: float) -> Lease:
        expires = await self._run(_RENEW, room, target, session, round(ttl * 1000))
        return Lease(room, target, session, expires / 1000)

    async def release(self, room: str, target: str, session: str) -> bool:
        return bool(await self._run(_RELEASE, room, target, session))

    async def release_all(self, session: str) -> list[Lease]:
        return [_lease(value) for value in await self._run(_RELEASE_ALL, session)]

    async def leases(self, room: str) -> list[Lease]:
        return [_lease(value) for value in await self._run(_LEASES, room)]

    async def set_step(self, room: str, step: int, session: str) -> int:
        await self._run(_SET_STEP, room, step, session)
        return step

    async def expire_leases(self) -> list[Lease]:
        return [_lease(value) for value in await self._run(_EXPIRE_LEASES)]

    async def presence(self, room: str, session: str, user: str | None,
                       ttl: float = PRESENCE_TTL) -> list[dict[str, Any]]:
        flat = await self._run(_PRESENCE, room, session, json.dumps(user), int(ttl * 1000))
        return [{"session": s, "user": u} for s, u in zip(flat[::2], flat[1::2], strict=True)]

    # -- events ---------------------------------------------------------------------------
    async def events_since(self, room: str, seq: int) -> list[dict[str, Any]] | None:
        events = await self._run(_EVENTS_SINCE, room, seq)
        return None if events is None else json.loads(events)

    async def publish(self, room: str, event: dict[str, Any]) -> None:
        await self._run(_PUBLISH, room, json.dumps({**event, "room": room}))

    async def subscribe(self, room: str) -> QueueSubscription:
        channel = f"{self.prefix}room:{room}:events"
        subscription = QueueSubscription(lambda s: self._unsubscribe(channel, s))
        self._subscribers.setdefault(channel, set()).add(subscription)
        confirmed = self._subscribed.get(channel)
        if confirmed is None:  # the first here: SUBSCRIBE on the shared connection
            confirmed = self._subscribed[channel] = asyncio.get_running_loop().create_future()
            try:
                if self._pubsub is None:
                    self._pubsub = self._redis().pubsub()
                await self._pubsub.subscribe(channel)
                if self._reader is None:
                    self._pubsub.connection.register_connect_callback(self._resync)
                    self._reader = asyncio.create_task(self._read())
            except BaseException as error:  # whoever waits hears it; a later call retries
                del self._subscribed[channel]
                confirmed.set_exception(error)
        try:
            await asyncio.shield(confirmed)  # the reader sees the confirmation
        except BaseException:
            await subscription.aclose()
            raise
        return subscription

    async def _unsubscribe(self, channel: str, subscription: QueueSubscription) -> None:
        subscribers = self._subscribers.get(channel, set())
        subscribers.discard(subscription)
        if subscribers:
            return
        self._subscribers.pop(channel, None)
        if self._subscribed.pop(channel, None) is not None:
            await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        """Hand each message of the shared pubsub connection to its channel's subscriptions."""
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (ConnectionError, TimeoutError):
                await asyncio.sleep(1)  # Redis is away; reconnecting calls _resync
                continue
            if message is None:
                continue
            channel = message["channel"]
            if message["type"] == "subscribe":
                confirmed = self._subscribed.get(channel)
                if confirmed is not None and not confirmed.done():
                    confirmed.set_result(None)
            elif message["type"] == "message":
                try:
                    event = json.loads(message["data"])
                except ValueError:
                    log.warning("ignoring a message on %s that is not JSON", channel)
                    continue
                for subscription in self._subscribers.get(channel, ()):
                    subscription.queue.put_nowait(event)

    def _resync(self, connection: Any) -> None:
        """The pubsub connection was re-made: events may be lost, so subscribers resync."""
        for channel, subscribers in self._subscribers.items():
            room = channel[len(self.prefix) + len("room:"): -len(":events")]
            for subscription in subscribers:
                subscription.queue.put_nowait(
                    {"type": "resync", "room": room, "reason": "the Redis connection was lost"})
