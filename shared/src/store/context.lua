-- Reads what the risk verdict needs from a session, changing nothing. K[1] = session key.
-- Returns {} for no session, else {state, scanner, ip, user_agent, created_at, device hash, risk level}, with ''
-- for a field not (yet) set.
local s = redis.call('HMGET', K[1], 'st', 'uid', 'ip', 'ua', 'ct', 'dev', 'risk')
if not s[1] then
  return {}
end
for i = 2, 7 do
  s[i] = s[i] or ''
end
return s
