/** Conditional upsert of a job record; see results-store.ts for why. */
export const UPSERT_LUA = `
-- KEYS: record, tombstone, event log, cancel flag
-- ARGV: version, terminal (0/1), result ttl, tombstone ttl, event log ttl, channel, event json ('' for none), event log max length, field, value, ...
-- A terminal record is never changed again; otherwise a lower version is a stale write.
-- While a cancel is requested, no attempt may start or report (2); the terminal write clears the flag.
local cur = redis.call('HMGET', KEYS[1], 'v', 'state')
if cur[1] then
  local s = cur[2]
  if s == 'completed' or s == 'failed' or s == 'cancelled' then return 0 end
  if tonumber(ARGV[1]) < tonumber(cur[1]) then return 0 end
end
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[4]) == 1 then return 2 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], unpack(ARGV, 9))
if ARGV[2] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3]) + tonumber(ARGV[4]))
  redis.call('DEL', KEYS[4])
end
if ARGV[7] ~= '' then
  local fresh = redis.call('EXISTS', KEYS[3]) == 0
  local seq = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'e', ARGV[7])
  -- Redis 7 allocates 4 KB for a new stream node and shrinks it only once the node is full;
  -- a job's log holds a few events, so it is re-created at its real size (about 5x smaller).
  if fresh then redis.call('RESTORE', KEYS[3], 0, redis.call('DUMP', KEYS[3]), 'REPLACE') end
  if ARGV[2] == '1' then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
  redis.call('PUBLISH', ARGV[6], '{"seq":"' .. seq .. '",' .. string.sub(ARGV[7], 2))
end
return 1
`;
