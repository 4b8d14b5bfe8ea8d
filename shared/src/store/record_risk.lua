-- Keeps the verdict of the scan the user is about to decide on. KEYS[1] = session key; ARGV[1] = user id;
-- ARGV[2] = risk level. Only while scanned, and only for the user who scanned: nobody else's scan may change it.
-- Returns 1 when recorded, 0 otherwise.
local s = redis.call('HMGET', KEYS[1], 'st', 'uid')
if s[1] == 'scanned' and s[2] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'risk', ARGV[2])
  return 1
end
return 0
