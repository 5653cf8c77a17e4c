--[[
  Reads one job as the API shows it, in one round trip: the queue (job type) that holds
  it, its state, BullMQ's hash of it, its queue's newest event-stream id (SSE starts
  after it), and the tombstone the API wrote at submit (what outlives BullMQ's copy).

  State comes from BullMQ's own sets by O(1) lookups, plus a search of the active list,
  which holds at most the running jobs; never a scan of the wait list (BullMQ's
  getState does that). A job in none of them is waiting (wait, paused or prioritized).

  KEYS[1]   any key under the prefix's hash tag (routes the call on a Redis Cluster;
            the other keys share its slot and are built here, as BullMQ's scripts do)
  ARGV[1]   BullMQ prefix, e.g. "{aj}"
  ARGV[2]   job id
  ARGV[3..] queues to look in, the likeliest first

  Returns {} when no queue knows the id; else
  { queue, state or "" (BullMQ no longer holds it), the job hash's FIELDS as a flat list,
    newest event id or "0-0", tombstone hash as a flat list,
    keys of its children (a flow's parent: BullMQ's dependencies, processed, failed
    and unsuccessful keys; empty for other jobs) }
]]
local prefix = ARGV[1]
local id = ARGV[2]

local function stateIn(base)
  if redis.call("ZSCORE", base .. "completed", id) then return "completed" end
  if redis.call("ZSCORE", base .. "failed", id) then return "failed" end
  if redis.call("ZSCORE", base .. "delayed", id) then return "delayed" end
  if redis.call("ZSCORE", base .. "waiting-children", id) then return "waiting-children" end
  if redis.call("ZSCORE", base .. "prioritized", id) then return "queued" end
  if redis.call("LPOS", base .. "active", id) then return "active" end
  return "queued"
end

local function newestEvent(base)
  local last = redis.call("XREVRANGE", base .. "events", "+", "-", "COUNT", 1)
  if last[1] then return last[1][1] end
  return "0-0"
end

local function childKeys(jobKey)
  local deps, processed, failed, unsuccessful =
    jobKey .. ":dependencies", jobKey .. ":processed", jobKey .. ":failed", jobKey .. ":unsuccessful"
  if redis.call("EXISTS", deps, processed, failed, unsuccessful) == 0 then return {} end
  local out = redis.call("SMEMBERS", deps)
  for _, list in ipairs({ redis.call("HKEYS", processed), redis.call("HKEYS", failed), redis.call("ZRANGE", unsuccessful, 0, -1) }) do
    for _, k in ipairs(list) do out[#out + 1] = k end
  end
  return out
end

-- The fields of BullMQ's hash that the job resource is made of, `timestamp` first: the
-- same list as JOB_HASH_FIELDS in job-view.ts (test/read-job-fields.test.ts compares them).
-- Not `data`: the submitted input, up to MAX_BODY_BYTES, which no read shows and which
-- every read, long-poll answer and listing page would otherwise carry.
local FIELDS = { "timestamp", "processedOn", "finishedOn", "opts", "atm", "attemptsMade", "progress",
  "returnvalue", "failedReason", "stacktrace", "rjk", "parentKey" }

-- A job is a hash BullMQ stored one in (it always writes `timestamp`): an id that names
-- another key of the queue (its `meta` settings, its `events` stream, a job's `:logs`
-- list, one of our tombstones) is no job.
local function jobHash(jobKey)
  if redis.call("TYPE", jobKey).ok ~= "hash" then return {} end
  local values = redis.call("HMGET", jobKey, unpack(FIELDS))
  if not values[1] then return {} end
  local out = {}
  for i, field in ipairs(FIELDS) do
    if values[i] then
      out[#out + 1] = field
      out[#out + 1] = values[i]
    end
  end
  return out
end

for i = 3, #ARGV do
  local base = prefix .. ":" .. ARGV[i] .. ":"
  local jobKey = base .. id
  local hash = jobHash(jobKey)
  local tomb = redis.call("HGETALL", jobKey .. ":tomb")
  if #hash > 0 then
    return { ARGV[i], stateIn(base), hash, newestEvent(base), tomb, childKeys(jobKey) }
  end
  if #tomb > 0 then
    return { ARGV[i], "", hash, newestEvent(base), tomb, {} }
  end
end
return {}
