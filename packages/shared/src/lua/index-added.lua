--[[
  Lists jobs that another producer added straight to BullMQ (no tombstone of ours), so
  that GET /jobs shows them too; the API indexes its own jobs when it submits them.
  KEYS[1]   the group's index of every job (its per-type indexes share the group's hash tag)
  ARGV[1]   the group's BullMQ prefix, e.g. "{aj}" or "{aj:hot}"
  ARGV[2]   prefix of the group's per-type indexes (the type follows)
  ARGV[3..] triples: queue (the type, or a shard of it), type, job id
  Returns the ids it indexed (for each, the relay publishes `submitted`).
]]
local indexed = {}
for i = 3, #ARGV, 3 do
  local queue, type, id = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local jobKey = ARGV[1] .. ":" .. queue .. ":" .. id
  if redis.call("EXISTS", jobKey .. ":tomb") == 0 then
    local ts = redis.call("HGET", jobKey, "timestamp")
    if ts then
      -- Same member shape as the API's (job-index.ts): submit ms (13 digits), sequence, id.
      local member = string.format("%013d", tonumber(ts)) .. ":0000:" .. id
      redis.call("ZADD", KEYS[1], 0, member)
      redis.call("ZADD", ARGV[2] .. type, 0, member)
      indexed[#indexed + 1] = id
    end
  end
end
return indexed
