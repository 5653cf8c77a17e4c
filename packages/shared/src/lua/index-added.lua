--[[
  Lists jobs that another producer added straight to BullMQ (no tombstone of ours), so
  that GET /jobs shows them too, and gives each the tombstone a job of ours gets at submit
  (submit ms, delay, max attempts), so that once BullMQ removes it, it reads as ours
  would: `cancelled` (RemovedError) when an operator removed it, 410 past its retention.
  The API indexes its own jobs when it submits them.
  KEYS[1]   prefix of the group's per-type indexes (the type follows): no key itself, but
            it carries the group's hash tag, so a Redis Cluster routes the call to its slot
  ARGV[1]   the group's BullMQ prefix, e.g. "{aj}" or "{aj:hot}"
  ARGV[2]   seconds a tombstone lives past the job's delay (RESULT_TTL + TOMBSTONE_TTL)
  ARGV[3]   index horizon: members below it ("(<13 digits>", exclusive) are trimmed from
            the indexes written to, as a submit trims its own (a type that only other
            producers or schedules feed would otherwise keep every entry)
  ARGV[4..] triples: queue (the type, or a shard of it), type, job id
  The job hashes, their tombstones and the per-type indexes are built here from KEYS[1]
  and ARGV, as BullMQ's own scripts build their keys; all share KEYS[1]'s hash tag (one
  queue group), so on a Redis Cluster they are in its slot.
  Returns, for each job it indexed, its id and the state it was submitted in ("delayed",
  "waiting-children" or "queued"): the relay publishes `submitted` with them.
]]
local indexed = {}
local ttl = tonumber(ARGV[2])
local touched = {}
for i = 4, #ARGV, 3 do
  local queue, jobType, id = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local jobKey = ARGV[1] .. ":" .. queue .. ":" .. id
  if redis.call("EXISTS", jobKey .. ":tomb") == 0 then
    local fields = redis.call("HMGET", jobKey, "timestamp", "delay", "opts")
    local ts = fields[1]
    if ts then
      local ms = tonumber(ts)
      -- A producer may have written a time that is no millisecond count (text, nanoseconds):
      -- such a job is not listed (its place in the order is unknown) but still gets its tombstone.
      if ms and ms >= 0 and ms < 1e13 then
        -- Same member shape as the API's (job-index.ts): submit ms (13 digits), sequence, id.
        local member = string.format("%013d", math.floor(ms)) .. ":0000:" .. id
        redis.call("ZADD", KEYS[1] .. jobType, 0, member)
        touched[KEYS[1] .. jobType] = true
      end
      local delay = math.max(tonumber(fields[2] or "0") or 0, 0)
      local ok, opts = pcall(cjson.decode, fields[3] or "{}")
      local attempts = ok and type(opts) == "table" and tonumber(opts.attempts) or 1
      local tomb = jobKey .. ":tomb"
      redis.call("HSET", tomb, "s", ts, "m", attempts)
      if delay > 0 then redis.call("HSET", tomb, "d", delay) end
      -- Bounded (ten years), so that a delay no queue would wait out cannot make EXPIRE refuse the call.
      redis.call("EXPIRE", tomb, math.min(math.ceil(delay / 1000) + ttl, 315360000))
      local state = "queued"
      if delay > 0 then
        state = "delayed"
      elseif redis.call("ZSCORE", ARGV[1] .. ":" .. queue .. ":waiting-children", id) then
        state = "waiting-children"
      end
      indexed[#indexed + 1] = id
      indexed[#indexed + 1] = state
    end
  end
end
for key in pairs(touched) do redis.call("ZREMRANGEBYLEX", key, "-", ARGV[3]) end
return indexed
