-- Gives a claimed login back (claimed -> confirmed) when the gateway could not finish issuing the token, so a
-- login the user confirmed is not lost to a transient fault. KEYS[1] = session key.
if redis.call('HGET', KEYS[1], 'st') == 'claimed' then
  redis.call('HSET', KEYS[1], 'st', 'confirmed')
  return 1
end
return 0
