-- Hands the token out: confirmed -> claimed, storing the answer that carries it. K[1] = session key;
-- A[1] = binding hash; A[2] = the answer (JSON with the token); A[3] = grace window, seconds;
-- A[4] = the session's events channel; A[5] = session id.
-- Exactly one caller wins ({'won', version, device hash or '', traceparent or ''}: the device for the user's
-- history, the trace context the create stored); concurrent or repeated polls of the same browser within the grace
-- window get that same answer ({'claimed', version, answer}), so a lost response is not a lost login. The
-- session then lives only for the grace window. Otherwise {'expired'}, {'forbidden'} or {state, version}.
local s = redis.call('HMGET', K[1], 'st', 'bind', 'resp', 'v', 'dev', 'tp')
if not s[1] then
  return {'expired'}
end
if s[2] ~= A[1] then
  return {'forbidden'}
end
if s[1] == 'confirmed' then
  local v = redis.call('HINCRBY', K[1], 'v', 1)
  redis.call('HSET', K[1], 'st', 'claimed', 'resp', A[2])
  redis.call('EXPIRE', K[1], A[3])
  redis.call('PUBLISH', A[4], A[5])
  return {'won', tostring(v), s[5] or '', s[6] or ''}
end
if s[1] == 'claimed' then
  return {'claimed', s[4], s[3]}
end
return {s[1], s[4]}
