/** Conditional upsert of a job record; see results-store.ts for why. */
export const UPSERT_LUA = `
-- KEYS: record, tombstone, event log, cancel flag
-- ARGV: version, terminal (0/1), result ttl, tombstone ttl, event log ttl, channel, event json without id and type ('' for none),
--       event log max length, job id, then field, value, ... (the first pair is 'type', <type>)
-- A terminal record is never changed again; otherwise a lower version is a stale write.
-- While a cancel is requested, no attempt may start or report (2); the terminal write clears the flag.
local cur = redis.call('HMGET', KEYS[1], 'v', 'state')
if cur[1] then
  local s = cur[2]
  if s == 'completed' or s == 'failed' or s == 'cancelled' then return 0 end
  if tonumber(ARGV[1]) < tonumber(cur[1]) then return 0 end
end
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[4]) == 1 then return 2 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], unpack(ARGV, 10))
if ARGV[2] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3]) + tonumber(ARGV[4]))
  redis.call('DEL', KEYS[4])
end
if ARGV[7] ~= '' then
  -- The job's event log is a short list (a new stream would take 4 KB); positions count per job.
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  local body = string.sub(ARGV[7], 2)
  redis.call('RPUSH', KEYS[3], '{"seq":"' .. seq .. '",' .. body)
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[8]), -1)
  if ARGV[2] == '1' then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
  -- The log leaves out the id and type (its key and the record say them); subscribers get both.
  redis.call('PUBLISH', ARGV[6], '{"seq":"' .. seq .. '","id":' .. cjson.encode(ARGV[9]) .. ',"type":' .. cjson.encode(ARGV[11]) .. ',' .. body)
end
return 1
`;
