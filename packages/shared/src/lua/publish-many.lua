--[[
  Publishes a batch of messages on one channel, in order: the event relay's lifecycle
  messages of one batch of stream entries. One call instead of one PUBLISH command each
  spares the API building, sending and reading back a command per message.
  No KEYS (a channel is not a key; on a Cluster a classic PUBLISH reaches every node).
  ARGV[1]    the channel
  ARGV[2..]  the messages
  Returns the number of messages published.
]]
for i = 2, #ARGV do redis.call("PUBLISH", ARGV[1], ARGV[i]) end
return #ARGV - 1
