/**
 * Moves a `failed` record back to `queued` for a manual retry: the one way out of a
 * terminal state, so it is its own script rather than a case of the upsert (which
 * keeps terminal records final). Returns 1 when reopened, 0 when the record is not
 * `failed` (or is gone), -1 when its version is not below the new one (a newer
 * attempt already wrote, so reopening would hide it).
 */
export const REOPEN_LUA = `
-- KEYS: record, event log
-- ARGV: version, channel, event json without id and type, event log max length, id, type
local cur = redis.call('HMGET', KEYS[1], 'v', 'state')
if cur[2] ~= 'failed' then return 0 end
if tonumber(cur[1]) >= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'state', 'queued')
-- lastError stays: it is the error of the latest failed attempt, as for an automatic retry.
redis.call('HDEL', KEYS[1], 'error', 'finishedAt')
-- Live again: the record and its event log must outlive the next run, as for any job not finished.
redis.call('PERSIST', KEYS[1])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local body = string.sub(ARGV[3], 2)
redis.call('RPUSH', KEYS[2], '{"seq":"' .. seq .. '",' .. body)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('PERSIST', KEYS[2])
redis.call('PUBLISH', ARGV[2], '{"seq":"' .. seq .. '","id":' .. cjson.encode(ARGV[5]) .. ',"type":' .. cjson.encode(ARGV[6]) .. ',' .. body)
return 1
`;
