-- A browser logged in as this user. K[1] = the user's device history (a sorted set of device hashes scored by
-- their last login, unix seconds); A[1] = device hash; A[2] = now; A[3] = memory, seconds; A[4] = cap.
-- Forgets logins older than the memory and all but the `cap` most recent devices, and keeps the set alive as long
-- as its newest entry. Returns the number of devices remembered.
local now = tonumber(A[2])
redis.call('ZADD', K[1], now, A[1])
redis.call('ZREMRANGEBYSCORE', K[1], '-inf', '(' .. (now - tonumber(A[3])))
redis.call('ZREMRANGEBYRANK', K[1], 0, -(tonumber(A[4]) + 1))
redis.call('EXPIRE', K[1], A[3])
return redis.call('ZCARD', K[1])
