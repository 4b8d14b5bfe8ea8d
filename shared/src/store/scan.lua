-- The phone scanned the QR. KEYS[1] = session key; ARGV[1] = user id.
-- pending -> scanned (recording the scanner); the same user scanning again is answered the same way, so an app
-- may retry. Returns {'ok', ip, user_agent, created_at, ttl}, {'not_found'} or {'conflict', state}.
local s = redis.call('HMGET', KEYS[1], 'st', 'uid', 'ip', 'ua', 'ct')
if not s[1] or s[1] == 'claimed' then
  return {'not_found'}
end
if s[1] == 'pending' then
  redis.call('HSET', KEYS[1], 'st', 'scanned', 'uid', ARGV[1])
elseif not (s[1] == 'scanned' and s[2] == ARGV[1]) then
  return {'conflict', s[1]}
end
return {'ok', s[3], s[4], s[5], redis.call('TTL', KEYS[1])}
