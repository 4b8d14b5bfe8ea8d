-- The scanner confirms or denies. KEYS[1] = session key; ARGV[1] = user id; ARGV[2] = 'confirmed' or
-- 'denied'; ARGV[3] = the code's expiry; ARGV[4] = the session's events channel; ARGV[5] = session id; ARGV[6] = the check
-- code the user typed ('' for none); ARGV[7] = wrong check codes allowed before the login is denied.
-- Only from scanned, only by the user who scanned, only with the code that was scanned, only once. A confirm of a
-- session with a check code must carry it: a wrong one changes nothing but its count, and the last allowed
-- miss denies the login (a user guessing is not the one looking at the browser). Deny never needs it.
-- Returns {outcome, traceparent}: outcome 'ok', 'not_found', 'wrong_state', 'wrong_user', 'wrong_check_code' or
-- 'check_code_denied'; the traceparent the create stored ('' for none), for the step to join the login's trace.
local s = redis.call('HMGET', KEYS[1], 'st', 'uid', 'cexp', 'cc', 'tp')
local tp = s[5] or ''
if not s[1] or s[1] == 'claimed' or s[3] ~= ARGV[3] then
  return {'not_found', tp}
end
if s[1] ~= 'scanned' then
  return {'wrong_state', tp}
end
if s[2] ~= ARGV[1] then
  return {'wrong_user', tp}
end
local state = ARGV[2]
local reply = 'ok'
if state == 'confirmed' and s[4] and s[4] ~= ARGV[6] then
  if redis.call('HINCRBY', KEYS[1], 'ccbad', 1) < tonumber(ARGV[7]) then
    return {'wrong_check_code', tp}
  end
  state, reply = 'denied', 'check_code_denied'
end
redis.call('HSET', KEYS[1], 'st', state)
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {reply, tp}
