-- events_since: the logged data events after a seq.
-- KEYS: none (every key is built from the prefix, ARGV[1]; see prelude.lua)
-- ARGV[4] room, [5] seq
-- Returns: JSON list of the events, or nil if the log no longer reaches back that far
-- Fails: no_room

local R, since = need_room(ARGV[4]), tonumber(ARGV[5])
local seq = tonumber(redis.call('HGET', R, 'seq'))
if since >= seq then return '[]' end
local log = R .. ':events'
local first = seq - redis.call('LLEN', log) + 1  -- every data change is logged: first..seq
if first > since + 1 then return nil end
return '[' .. table.concat(redis.call('LRANGE', log, since + 1 - first, -1), ',') .. ']'
