-- The phone scanned the QR. K[1] = session key; A[1] = user id; A[2] = the scanned code's expiry;
-- A[3] = the session's events channel; A[4] = session id; A[5] = the check code the browser will show ('' for none);
-- A[6] = the scan's risk level, kept for the confirm ('' for none); A[7] = what the phone was shown (JSON: browser,
-- OS, location), kept for the web session a claim begins ('' for none).
-- pending -> scanned (recording the scanner; the QR stops rotating); the same user scanning again is answered
-- the same way, so an app may retry. A code superseded by a rotation is as unknown as a missing session.
-- A second user scanning a QR someone else already scanned (a photographed or shared QR) ends the login:
-- scanned -> cancelled and the code is voided, so neither can confirm it and the browser is logged in as nobody.
-- The check code is drawn once, at the first scan; a retry keeps it.
-- Returns {'ok', ip, user_agent, created_at, ttl, check code required ('1' or '0'), traceparent},
-- {'not_found'}, {'ended', first scanner, traceparent} or {'conflict', state}. The traceparent is the one the
-- create stored ('' when traces were off), so the scan joins the login's trace without another read.
local s = redis.call('HMGET', K[1], 'st', 'uid', 'ip', 'ua', 'ct', 'cexp', 'cc', 'tp')
if not s[1] or s[1] == 'claimed' or s[6] ~= A[2] then
  return {'not_found'}
end
if s[1] == 'pending' then
  redis.call('HSET', K[1], 'st', 'scanned', 'uid', A[1])
  if A[5] ~= '' then
    redis.call('HSET', K[1], 'cc', A[5])
    s[7] = A[5]
  end
  redis.call('HINCRBY', K[1], 'v', 1)
  redis.call('PUBLISH', A[3], A[4])
elseif s[1] == 'scanned' and s[2] ~= A[1] then
  redis.call('HSET', K[1], 'st', 'cancelled', 'cexp', '0')
  redis.call('HINCRBY', K[1], 'v', 1)
  redis.call('PUBLISH', A[3], A[4])
  return {'ended', s[2], s[8] or ''}
elseif s[1] ~= 'scanned' then
  return {'conflict', s[1]}
end
-- The verdict of this user's scan (a retry may judge anew), for the confirm to check: in the same step, so no
-- other scan can slip in between.
if A[6] ~= '' then
  redis.call('HSET', K[1], 'risk', A[6])
end
if A[7] ~= '' then
  redis.call('HSET', K[1], 'shown', A[7])
end
local required = '0'
if s[7] then
  required = '1'
end
-- The User-Agent is kept in pieces of at most 64 bytes ('ua', 'ua2'... see store/browser.rs), joined here.
local ua = redis.call('HMGET', K[1], 'ua', 'ua2', 'ua3', 'ua4', 'ua5')
for i = 1, 5 do
  ua[i] = ua[i] or ''
end
return {'ok', s[3], table.concat(ua), s[5], redis.call('TTL', K[1]), required, s[8] or ''}
