-- The browser gives up. KEYS[1] = session key; ARGV[1] = binding hash; ARGV[2] = the session's events channel;
-- ARGV[3] = session id. Returns 'ok', 'forbidden' or 'gone'.
local s = redis.call('HMGET', KEYS[1], 'st', 'bind')
if not s[1] then
  return 'gone'
end
if s[2] ~= ARGV[1] then
  return 'forbidden'
end
if s[1] == 'claimed' then
  -- The browser has its token and is done: drop the copy kept for the grace window.
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 'gone'
end
if s[1] == 'pending' or s[1] == 'scanned' or s[1] == 'confirmed' then
  redis.call('HSET', KEYS[1], 'st', 'cancelled')
  redis.call('HINCRBY', KEYS[1], 'v', 1)
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 'ok'
