-- A DPoP proof's first presentation (RFC 9449 §11.1). K[1] = the proof's key (thumbprint and jti digest);
-- A[1] = how long it is remembered (seconds: the proof's acceptance window). Returns 1 the first time, 0 for a
-- replay. One SET NX EX: the key gets its TTL in the step that creates it.
if redis.call('SET', K[1], '1', 'NX', 'EX', A[1]) then
  return 1
end
return 0
