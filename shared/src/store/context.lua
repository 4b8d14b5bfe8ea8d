-- Reads what the risk verdict needs from a session, changing nothing. K[1] = session key; on a single Redis
-- also K[2] = the scanning user's device history and A[1] = the oldest last login that still counts.
-- Returns {} for no session, else {state, scanner, ip, user_agent, created_at, device hash, risk level, known},
-- with '' for a field not (yet) set; known is '1' or '0' when K[2] was given and the session names a device.
-- The User-Agent is kept in pieces of at most 64 bytes ('ua', 'ua2'... see store/browser.rs), joined here.
local s = redis.call('HMGET', K[1], 'st', 'uid', 'ip', 'ua', 'ct', 'dev', 'risk', 'ua2', 'ua3', 'ua4', 'ua5')
if not s[1] then
  return {}
end
for i = 2, 11 do
  s[i] = s[i] or ''
end
s[4] = table.concat({s[4], s[8], s[9], s[10], s[11]})
local known = ''
if K[2] and s[6] ~= '' then
  known = knows_device(K[2], s[6], A[1]) and '1' or '0'
end
return {s[1], s[2], s[3], s[4], s[5], s[6], s[7], known}
