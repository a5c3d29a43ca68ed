-- resolve: the frames an index spec selects, with the counters they were read at.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] 'slice' or 'list', [6] JSON spec: [start, stop, step] (nulls for None)
-- or a list of indices (negative from the end)
-- Returns: {length, seq, order_version, JSON indices, JSON ids,
--           JSON [[version, hash, location], ...] of the selected frames}
-- Fails: no_room, step_zero, index

local room, kind, spec = ARGV[4], ARGV[5], cjson.decode(ARGV[6])
local R = need_room(room)
local length = order_length(R)
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
  local span = order_range(R, lo, hi)
  for k, i in ipairs(indices) do ids[k] = span[i - lo + 1] end
else
  for k, i in ipairs(indices) do ids[k] = order_range(R, i, i)[1] end
end
local refs = map_get_all(frames_of(R), ids)
for k, packed in ipairs(ids) do refs[k], ids[k] = ref_json(refs[k]), id_of(packed) end
local h = redis.call('HMGET', R, 'seq', 'order_version')
return {length, tonumber(h[1]), tonumber(h[2]), json_list(indices), json_list(ids),
        '[' .. table.concat(refs, ',') .. ']'}
