-- insert: add frames at positions, one change of the frame order.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] JSON [[index, id, version, hash, location], ...] inserted in turn,
-- [6] session, [7] the order version the change is based on ('' for unchecked),
-- [8] record: 'do', 'undo' or 'redo', [9] idempotency key ('' for none), [10] its digest
-- Returns: {seq, order_version, {frames_inserted event JSON}}; for a repeated key
-- {seq, order_version, {}, versions JSON} of the first time
-- no items: nothing changes (a key is remembered)
-- Fails: no_room, key_reused, locked, order_changed, insert_position, frame_exists

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
local done = recalled(R, ARGV[9], ARGV[10])
if done then return done end
check_order(room, session, base)
if #items == 0 then return remember(R, ARGV[9], ARGV[10], commit(R, {}), {}) end
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
return remember(R, ARGV[9], ARGV[10],
                order_changed(room, session, kind,
                              json_object({op = 'delete'}, {ids = json_list(ids)}),
                              'frames_inserted', indices, ids), {})
