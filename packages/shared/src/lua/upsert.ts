/** A terminal event carries the final record's fields when they take at most this many bytes as JSON. */
export const SNAPSHOT_MAX_BYTES = 4096;

/** Conditional upserts of job records, one or more in order; see results-store.ts for why. */
export const UPSERT_LUA = `
-- KEYS: record, tombstone, event log, cancel flag (of one job).
-- ARGV is one or more writes to that job, one after another, each as: n (how many values follow), then
--   version, mode, result ttl, tombstone ttl, event log ttl, channel, event json without id and type ('' for none),
--   event log max length, job id, then field, value, ... (the first pair is 'type', <type>)
-- mode: 'T' terminal; 'C' non-terminal, refused (2) while a cancel is requested, so no attempt may start
-- or report then; 'F' non-terminal of an attempt that has already finished, so a pending cancel is left
-- to the terminal write that follows it in the same call.
-- A terminal record is never changed again; otherwise a lower version is a stale write (0).
-- Several writes in one call are steps of the job, applied in order: one round trip, one event each.
local rec, tomb, log, flag = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
-- Appends one event (JSON without id and type) to the job's log and publishes it.
local function emit(o, event, terminal)
  -- The job's event log is a short list (a new stream would take 4 KB); positions count per job.
  local seq = redis.call('HINCRBY', rec, 'seq', 1)
  local body = string.sub(event, 2)
  redis.call('RPUSH', log, '{"seq":"' .. seq .. '",' .. body)
  redis.call('LTRIM', log, -tonumber(ARGV[o + 8]), -1)
  if terminal then redis.call('EXPIRE', log, ARGV[o + 5]) end
  -- The log leaves out the id and type (its key and the record say them); subscribers get both.
  local head = '{"seq":"' .. seq .. '","id":' .. cjson.encode(ARGV[o + 9]) .. ',"type":' .. cjson.encode(ARGV[o + 11]) .. ','
  if terminal then
    -- The final record rides along when small, so an API holding a long-poll or a stream
    -- for this job answers from the message instead of reading the record back.
    local h = redis.call('HGETALL', rec)
    local t = {}
    for j = 1, #h, 2 do t[h[j]] = h[j + 1] end
    local snap = cjson.encode(t)
    if #snap <= ${SNAPSHOT_MAX_BYTES} then body = string.sub(body, 1, -2) .. ',"record":' .. snap .. '}' end
  end
  redis.call('PUBLISH', ARGV[o + 6], head .. body)
end
local function upsert(o)
  local cur = redis.call('HMGET', rec, 'v', 'state')
  if cur[1] then
    local s = cur[2]
    if s == 'completed' or s == 'failed' or s == 'cancelled' then return 0 end
    if tonumber(ARGV[o + 1]) < tonumber(cur[1]) then return 0 end
  end
  local terminal = ARGV[o + 2] == 'T'
  if ARGV[o + 2] == 'C' and redis.call('EXISTS', flag) == 1 then return 2 end
  local event = ARGV[o + 7]
  -- A worker's first write (attempt 1, after "submitted": versions 12-19) to a job that has
  -- neither record nor events: its "submitted" write has not landed (on a Cluster the API
  -- writes it after the enqueue, and it is then stale) or never will (a job added to BullMQ
  -- directly). The log still starts with "submitted", dated as this write.
  if not cur[1] and event ~= '' then
    local v = tonumber(ARGV[o + 1])
    local at = string.match(event, '"at":"[^"]*"')
    if v > 11 and v < 20 and at and redis.call('EXISTS', log) == 0 then
      emit(o, '{"event":"submitted","state":"queued",' .. at .. '}', false)
    end
  end
  redis.call('HSET', rec, 'v', ARGV[o + 1], unpack(ARGV, o + 10, o + tonumber(ARGV[o])))
  if terminal then
    redis.call('EXPIRE', rec, ARGV[o + 3])
    redis.call('SET', tomb, '1', 'EX', tonumber(ARGV[o + 3]) + tonumber(ARGV[o + 4]))
    redis.call('DEL', flag)
  end
  if event ~= '' then emit(o, event, terminal) end
  return 1
end
local out = {}
local o = 1
while o <= #ARGV do
  out[#out + 1] = upsert(o)
  o = o + 1 + tonumber(ARGV[o])
end
return out
`;
