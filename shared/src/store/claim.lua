-- Hands the token out: confirmed -> claimed, storing the answer that carries it. K[1] = session key;
-- A[1] = binding hash; A[2] = the answer (JSON with the token); A[3] = grace window, seconds;
-- A[4] = the session's events channel; A[5] = session id; K[2] = the login's outcome key, A[6] = how long it is
-- kept (seconds); on a single Redis also K[3] = the confirmed user's device history, and A[7] = now, A[8] = its
-- memory (seconds), A[9] = its cap, to remember the session's device in the same step, and K[4] = the user's web
-- sessions, A[10] = the new web session's sid, A[11] = its lifetime (seconds), A[12] = their cap, to add it (the
-- reply's remembered is then '1'), with K[5] and K[6] = the login webhook and back-channel logout queues, where
-- the login's webhook and the logouts of sessions the cap ends are queued. The won claim records the login as claimed in its outcome key, which outlives
-- the grace window.
-- Exactly one caller wins ({'won', version, device hash or '', traceparent or '', remembered, shown, risk}: the
-- device for the user's history, the trace context the create stored, what the scan showed the phone ('' once the
-- step added the web session itself) and its risk level, for the web session and webhook a cluster adds in steps
-- of their own); concurrent or repeated polls of the same browser within the grace
-- window get that same answer ({'claimed', version, answer}), so a lost response is not a lost login. The
-- session then lives only for the grace window. Otherwise {'expired'}, {'forbidden'} or {state, version}.
local s = redis.call('HMGET', K[1], 'st', 'bind', 'resp', 'v', 'dev', 'tp', 'shown', 'uid', 'risk')
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
  redis.call('HSET', K[2], 'st', 'claimed')
  redis.call('EXPIRE', K[2], A[6])
  redis.call('PUBLISH', A[4], A[5])
  local shown = s[7] or '{"b":"unknown","o":"unknown"}'
  local remembered = ''
  if K[3] then
    if s[5] then
      remember_device(K[3], s[5], A[7], A[8], A[9])
    end
    add_web_session(K[4], s[8], A[10], shown, A[7], A[11], A[12], s[9] or '', {logins = K[5], logouts = K[6]})
    remembered = '1'
  end
  if remembered == '1' then
    shown = ''
  end
  return {'won', tostring(v), s[5] or '', s[6] or '', remembered, shown, s[9] or ''}
end
if s[1] == 'claimed' then
  return {'claimed', s[4], s[3]}
end
return {s[1], s[4]}
