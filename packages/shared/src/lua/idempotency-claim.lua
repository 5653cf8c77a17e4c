--[[
  Claims an idempotency key unless it is held (SET NX GET does the same from Redis 7.0;
  this also runs on older servers).
  KEYS[1]  the idempotency key
  ARGV[1]  the claim: "<fingerprint> <job id> <claim time, ms>"
  ARGV[2]  how long the key lives, seconds
  Returns nil when the claim is ours, else the value held.
]]
local held = redis.call("GET", KEYS[1])
if held then return held end
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2])
return false
