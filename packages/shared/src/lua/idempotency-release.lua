--[[
  Deletes an idempotency key only while it still holds our claim, so a failed submit
  never frees someone else's.
  KEYS[1]  the idempotency key
  ARGV[1]  our claim
  Returns 1 when deleted, 0 otherwise.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
