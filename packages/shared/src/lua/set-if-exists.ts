/** HSET one field only when the hash exists, keeping its TTL: never recreates an expired record. */
export const SET_IF_EXISTS_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
`;
