--[[
  Lists jobs that another producer added straight to BullMQ (no tombstone of ours), so
  that GET /jobs shows them too; the API indexes its own jobs when it submits them.
  A run of a job scheduler (BullMQ's `rjk` field) also gets the tombstone a submitted
  job gets, so that once BullMQ's retention drops it, it reads 410 (expired), not 404.
  KEYS[1]   the index of every job (the per-type indexes share its hash tag)
  ARGV[1]   BullMQ prefix, e.g. "{aj}"
  ARGV[2]   prefix of the per-type indexes (the type follows)
  ARGV[3]   seconds a tombstone outlives the job's earliest end (RESULT_TTL + TOMBSTONE_TTL)
  ARGV[4..] pairs: type, job id
  Returns the ids it indexed (for each, the relay publishes `submitted`).
]]
local indexed = {}
local tombTtl = tonumber(ARGV[3])
for i = 4, #ARGV, 2 do
  local type, id = ARGV[i], ARGV[i + 1]
  local jobKey = ARGV[1] .. ":" .. type .. ":" .. id
  if redis.call("EXISTS", jobKey .. ":tomb") == 0 then
    local found = redis.call("HMGET", jobKey, "timestamp", "rjk", "delay", "opts")
    local ts = found[1]
    if ts then
      -- Same member shape as the API's (job-index.ts): submit ms (13 digits), sequence, id.
      local member = string.format("%013d", tonumber(ts)) .. ":0000:" .. id
      redis.call("ZADD", KEYS[1], 0, member)
      redis.call("ZADD", ARGV[2] .. type, 0, member)
      indexed[#indexed + 1] = id
      if found[2] then
        -- The fields of job-build.ts's tombstoneWrites: submitted at, delay, attempts.max.
        local delay = tonumber(found[3]) or 0
        local ok, asked = pcall(function() return cjson.decode(found[4]).attempts end)
        local attempts = (ok and tonumber(asked)) or 1
        redis.call("HSET", jobKey .. ":tomb", "s", ts, "d", delay, "m", attempts)
        redis.call("EXPIRE", jobKey .. ":tomb", math.ceil(delay / 1000) + tombTtl)
      end
    end
  end
end
return indexed
