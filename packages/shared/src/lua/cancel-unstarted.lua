--[[
  Cancels a job that has not started, with the children of it that have not started
  either (a flow's parent), in one step: a job that a worker took or that finished since
  the caller last read it is left alone and the reply says which it is.

  Marks each job it removes as "cancelled by request" in its tombstone (created, with
  ARGV[4] as TTL, for a job another producer added), and for a job between attempts what
  its finished attempts left (BullMQ's hash goes), then removes them with BullMQ's own
  removal code (removeUnprocessedChildren, spliced in below by scripts.ts), so BullMQ's
  parent/child bookkeeping and its `removed` events stay BullMQ's.

  KEYS[1]  the job's hash (BullMQ's job key, "<queue prefix><id>")
  KEYS[2]  its queue's meta key (BullMQ's removal reads it)
  The other keys it touches are built here from ARGV[1] and the job's, as BullMQ's own
  scripts build theirs: the queue's sets, the job's lock and tombstone, its children's
  keys. They share KEYS[1]'s hash tag (a flow stays within one queue group), so on a
  Redis Cluster they are in KEYS[1]'s slot.
  ARGV[1]  queue prefix, e.g. "{aj}:echo:"
  ARGV[2]  job id
  ARGV[3]  now, ms (the cancel time noted in the tombstones)
  ARGV[4]  TTL in seconds for a tombstone that does not exist yet

  Returns 1 when removed; 0 when a worker holds the job (take the running-job path);
  -1 when there is no such job; -2 when it has finished (completed or failed);
  -8 when it is the next run of a job scheduler (BullMQ refuses to remove those).
]]
local rcall = redis.call
local queuePrefix, id, now, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local key = KEYS[1]

-- Only a job: an id may name another key of the queue (its `meta` settings, say), which is no job to remove.
if rcall("TYPE", key).ok ~= "hash" or rcall("HEXISTS", key, "timestamp") == 0 then return -1 end
if rcall("ZSCORE", queuePrefix .. "completed", id) or rcall("ZSCORE", queuePrefix .. "failed", id) then return -2 end
if rcall("EXISTS", key .. ":lock") == 1 or rcall("LPOS", queuePrefix .. "active", id) then return 0 end
local rjk = rcall("HGET", key, "rjk")
local runAt = rjk and rcall("ZSCORE", queuePrefix .. "repeat", rjk)
if runAt and id == "repeat:" .. rjk .. ":" .. runAt then return -8 end

-- A job between attempts (one failed, the retry not started) keeps what they left: the
-- count, when the latest began (BullMQ's processedOn), and its error (message and the trace's
-- first line). The root and each child alike: a child waiting for its retry is one too.
local function markCancelled(jobKey)
  rcall("HSET", jobKey .. ":tomb", "x", now)
  rcall("EXPIRE", jobKey .. ":tomb", ttl, "NX")
  local made = tonumber(rcall("HGET", jobKey, "atm") or "0")
  if made and made > 0 then
    local started = rcall("HGET", jobKey, "processedOn") or ""
    local reason = rcall("HGET", jobKey, "failedReason") or ""
    local newest = ""
    local ok, stacks = pcall(cjson.decode, rcall("HGET", jobKey, "stacktrace") or "[]")
    if ok and type(stacks) == "table" and type(stacks[#stacks]) == "string" then
      newest = cjson.encode({ string.match(stacks[#stacks], "^[^\n]*") })
    end
    rcall("HSET", jobKey .. ":tomb", "a", made, "p", started, "fr", reason, "st", newest)
  end
end

-- The same walk as BullMQ's removeJobChildren with ignoreProcessed and ignoreLocked:
-- pending children, skipping a running one (and its subtree) and a failed one.
local function markPendingChildren(jobKey)
  for _, childKey in ipairs(rcall("SMEMBERS", jobKey .. ":dependencies")) do
    local childId = string.match(childKey, "([^:]+)$")
    local childPrefix = string.sub(childKey, 1, #childKey - #childId)
    if rcall("EXISTS", childKey .. ":lock") == 0 and not rcall("ZSCORE", childPrefix .. "failed", childId) then
      markCancelled(childKey)
      markPendingChildren(childKey)
    end
  end
end

markCancelled(key)
markPendingChildren(key)

--- @bullmq removeUnprocessedChildren

removeJobWithChildren(queuePrefix, id, nil, { removeChildren = false, ignoreProcessed = false, ignoreLocked = false })
return 1
