-- The browser's poll. K[1] = session key; A[1] = binding hash; A[2] = enforced poll interval (ms, 0 =
-- none). Returns {'expired'}, {'forbidden'}, {'slow_down', ms to wait}, or
-- {state, version, code expiry, ms to live[, extra]} where extra is the user id when confirmed (then followed
-- by the DPoP key's thumbprint when the create stored one), the stored answer when claimed (grace window) and
-- the check code when scanned with one. Waiters wake at the end of the session's life: expiry publishes nothing.
-- Only the poll clock changes here, never the login's state.
local s = redis.call('HMGET', K[1], 'st', 'bind', 'uid', 'resp', 'ptat', 'v', 'cexp', 'cc', 'jkt')
if not s[1] then
  return {'expired'}
end
if s[2] ~= A[1] then
  return {'forbidden'}
end
-- GCRA on this session's polls: one poll per interval, tolerating one that comes up to an interval early
-- (jitter, a retry). Polling at the advised interval is never slowed down.
local interval = tonumber(A[2])
if interval > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local tat = math.max(tonumber(s[5] or now), now)
  local allow_at = tat - interval
  if allow_at > now then
    return {'slow_down', tostring(allow_at - now)}
  end
  redis.call('HSET', K[1], 'ptat', tat + interval)
end
local reply = {s[1], s[6], s[7], tostring(redis.call('PTTL', K[1]))}
if s[1] == 'confirmed' then
  reply[5] = s[3]
  if s[9] then
    reply[6] = s[9]
  end
elseif s[1] == 'claimed' then
  reply[5] = s[4]
elseif s[1] == 'scanned' and s[8] then
  reply[5] = s[8]
end
return reply
