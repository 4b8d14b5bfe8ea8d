-- The scanner confirms or denies. K[1] = session key; A[1] = user id; A[2] = 'confirmed' or
-- 'denied'; A[3] = the code's expiry; A[4] = the session's events channel; A[5] = session id; A[6] = the check
-- code the user typed ('' for none); A[7] = wrong check codes allowed before the login is denied; A[8] = the
-- risk levels a confirm is allowed at, as ',low,medium,' ('' when no level blocks); K[2] = the login's outcome
-- key, A[9] = how long it outlives the session (seconds).
-- Only from scanned, only by the user who scanned, only with the code that was scanned, only once. A confirm of a
-- session with a check code must carry it: a wrong one changes nothing but its count, and the last allowed
-- miss denies the login (a user guessing is not the one looking at the browser). Deny never needs it.
-- A confirm of a scan judged at a blocked level, or with no verdict kept, is refused (refused, not guessed).
-- A confirm starts the outcome key (the scanner), so the phone can still learn how the login ended once the
-- session is gone (claim.lua and cancel.lua record the end; none recorded is a login that expired uncollected).
-- Returns {outcome, traceparent}: outcome 'ok', 'not_found', 'wrong_state', 'wrong_user', 'risk_blocked',
-- 'wrong_check_code' or 'check_code_denied'; the traceparent the create stored ('' for none), for the step to join the login's trace.
local s = redis.call('HMGET', K[1], 'st', 'uid', 'cexp', 'cc', 'tp', 'risk')
local tp = s[5] or ''
if not s[1] or s[1] == 'claimed' or s[3] ~= A[3] then
  return {'not_found', tp}
end
if s[1] ~= 'scanned' then
  return {'wrong_state', tp}
end
if s[2] ~= A[1] then
  return {'wrong_user', tp}
end
local state = A[2]
if state == 'confirmed' and A[8] ~= '' and not string.find(A[8], ',' .. (s[6] or 'none') .. ',', 1, true) then
  return {'risk_blocked', tp}
end
local reply = 'ok'
if state == 'confirmed' and s[4] and s[4] ~= A[6] then
  if redis.call('HINCRBY', K[1], 'ccbad', 1) < tonumber(A[7]) then
    return {'wrong_check_code', tp}
  end
  state, reply = 'denied', 'check_code_denied'
end
redis.call('HSET', K[1], 'st', state)
if state == 'confirmed' then
  redis.call('HSET', K[2], 'uid', A[1])
  redis.call('EXPIRE', K[2], math.max(redis.call('TTL', K[1]), 1) + tonumber(A[9]))
end
redis.call('HINCRBY', K[1], 'v', 1)
redis.call('PUBLISH', A[4], A[5])
return {reply, tp}
