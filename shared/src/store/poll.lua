-- The browser's poll, which claims the login when it is confirmed. KEYS[1] = session key; ARGV[1] = binding hash.
-- Returns {status} or {'claimed', user id}. Claiming flips confirmed -> claimed in this same step, so of any
-- number of concurrent polls exactly one receives the user id.
local s = redis.call('HMGET', KEYS[1], 'st', 'bind', 'uid')
if not s[1] then
  return {'expired'}
end
if s[2] ~= ARGV[1] then
  return {'forbidden'}
end
if s[1] == 'confirmed' then
  redis.call('HSET', KEYS[1], 'st', 'claimed')
  return {'claimed', s[3]}
end
if s[1] == 'claimed' then
  return {'expired'}
end
return {s[1]}
