-- The scanner confirms or denies. KEYS[1] = session key; ARGV[1] = user id; ARGV[2] = 'confirmed' or 'denied'.
-- Only from scanned, only by the user who scanned, only once. Returns 'ok', 'not_found', 'wrong_state' or
-- 'wrong_user'.
local s = redis.call('HMGET', KEYS[1], 'st', 'uid')
if not s[1] or s[1] == 'claimed' then
  return 'not_found'
end
if s[1] ~= 'scanned' then
  return 'wrong_state'
end
if s[2] ~= ARGV[1] then
  return 'wrong_user'
end
redis.call('HSET', KEYS[1], 'st', ARGV[2])
return 'ok'
