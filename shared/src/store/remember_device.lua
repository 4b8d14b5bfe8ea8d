-- A browser logged in as this user. KEYS[1] = the user's device history (a sorted set of device hashes scored by
-- their last login, unix seconds); ARGV[1] = device hash; ARGV[2] = now; ARGV[3] = memory, seconds; ARGV[4] = cap.
-- Forgets logins older than the memory and all but the `cap` most recent devices, and keeps the set alive as long
-- as its newest entry. Returns the number of devices remembered.
local now = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[3])))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('ZCARD', KEYS[1])
