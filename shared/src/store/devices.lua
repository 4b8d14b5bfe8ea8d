-- Each user's device history: a sorted set of device hashes scored by their last login (unix seconds), under the
-- user's own hash tag. Prepended to the steps that read or write it: on their own (known_device.lua,
-- remember_device.lua), or, on a single Redis, inside the session step that needs it (context.lua, claim.lua).

-- Did `device` log in as the history's user at `oldest` (unix seconds) or later?
local function knows_device(history, device, oldest)
  local score = redis.call('ZSCORE', history, device)
  return score ~= false and tonumber(score) >= tonumber(oldest)
end

-- `device` logged in `now`. Forgets logins older than `memory` seconds and all but the `cap` most recent
-- devices, and keeps the set alive as long as its newest entry. Returns the number of devices remembered.
local function remember_device(history, device, now, memory, cap)
  now = tonumber(now)
  redis.call('ZADD', history, now, device)
  redis.call('ZREMRANGEBYSCORE', history, '-inf', '(' .. (now - tonumber(memory)))
  redis.call('ZREMRANGEBYRANK', history, 0, -(tonumber(cap) + 1))
  redis.call('EXPIRE', history, memory)
  return redis.call('ZCARD', history)
end
