-- The scanner confirms or denies. KEYS[1] = session key; ARGV[1] = user id; ARGV[2] = 'confirmed' or
-- 'denied'; ARGV[3] = the code's expiry; ARGV[4] = events channel; ARGV[5] = session id.
-- Only from scanned, only by the user who scanned, only with the code that was scanned, only once.
-- Returns 'ok', 'not_found', 'wrong_state' or 'wrong_user'.
local s = redis.call('HMGET', KEYS[1], 'st', 'uid', 'cexp')
if not s[1] or s[1] == 'claimed' or s[3] ~= ARGV[3] then
  return 'not_found'
end
if s[1] ~= 'scanned' then
  return 'wrong_state'
end
if s[2] ~= ARGV[1] then
  return 'wrong_user'
end
redis.call('HSET', KEYS[1], 'st', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 'ok'
