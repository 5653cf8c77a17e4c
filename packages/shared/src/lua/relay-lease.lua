--[[
  Takes or keeps the relay's lease: one API process at a time relays stream events to
  jobs:events, so each is published once however many API processes run.
  KEYS[1]  the lease key
  ARGV[1]  this process's token
  ARGV[2]  lease time, ms
  Returns 1 when this process holds the lease now, 0 when another one does.
]]
local holder = redis.call("GET", KEYS[1])
if holder == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1
