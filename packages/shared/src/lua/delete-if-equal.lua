--[[
  Deletes a key only while it still holds the value given: a claim or lock that lapsed
  and was taken by another request stays theirs (a failed submit's idempotency key, a
  schedule name's lock).
  KEYS[1]  the key
  ARGV[1]  the value it must still hold
  Returns 1 when deleted, 0 otherwise.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
