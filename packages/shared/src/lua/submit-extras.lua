--[[
  Our writes that go with jobs being submitted, queued in the submit's own transaction
  beside BullMQ's adds (apps/api/src/jobs/submit-atomic.ts): each job's tombstone and its
  TTL, its callback-due entry, its entry in its type's list index, and its `submitted`
  event. One call per submit rather than a handful of commands per job.
  KEYS[1]    the callbacks-due set
  KEYS[2..]  each job's tombstone (in job order), then each per-type index used
  ARGV[1]    the events channel
  ARGV[2]    index horizon: members below it ("(<13 digits>", exclusive) are trimmed
  ARGV[3]    now, ms: callback-due entries scored below it are stale
  ARGV[4]    "1": publish even when PUBSUB NUMSUB counts nobody (on a Cluster it counts one node only)
  ARGV[5..]  per job: KEYS position of its type index, index member, tombstone TTL (s),
             callback-due score ("" for none), the `submitted` message, the number of
             tombstone fields, then those fields and values
  Returns the number of jobs written.
]]
local channel, cutoff = ARGV[1], ARGV[2]
local publish = ARGV[4] == "1" or redis.call("PUBSUB", "NUMSUB", channel)[2] > 0
local typeIndexes, anyDue = {}, false
local a, n = 5, 0
while a <= #ARGV do
  n = n + 1
  local tomb, typeIndex = KEYS[1 + n], KEYS[tonumber(ARGV[a])]
  local member, ttl, due, message, nf = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], tonumber(ARGV[a + 5])
  local fields = {}
  for i = 1, nf * 2 do fields[i] = ARGV[a + 5 + i] end
  redis.call("HSET", tomb, unpack(fields))
  redis.call("EXPIRE", tomb, ttl)
  if due ~= "" then
    redis.call("ZADD", KEYS[1], due, string.match(member, "[^:]+$"))
    anyDue = true
  end
  redis.call("ZADD", typeIndex, 0, member)
  typeIndexes[typeIndex] = true
  if publish then redis.call("PUBLISH", channel, message) end
  a = a + 6 + nf * 2
end
-- An entry goes when its callback is handed over, at the latest with the tombstone that holds its URL
-- (the score): those stale by then go as new ones come.
if anyDue then redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[3]) end
for key in pairs(typeIndexes) do redis.call("ZREMRANGEBYLEX", key, "-", cutoff) end
return n
