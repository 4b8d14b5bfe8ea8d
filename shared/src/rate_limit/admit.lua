-- Rate limits checked in the same step as the work they guard: prepended to every step script (and, alone,
-- the rate limiter's own script). GCRA (generic cell rate algorithm), all-or-nothing: the step runs only if every
-- limit admits it, and only then is each counted. Time is Redis's own clock, so any number of service instances
-- on any hosts share one view.
-- After its own keys and arguments the caller appends one key per limit (its state), then per limit its
-- emission interval (ms), burst (requests) and 'count' (or 'peek': asked, never counted), then the number of
-- limits (0 for none). K and A are the step's own keys and arguments.
-- A refused step changes nothing and answers {'limited', ms until admitted, index of the limit that waits longest}.
local K, A = {}, {}
local limited
do
  local n = tonumber(ARGV[#ARGV])
  local first_key, first_arg = #KEYS - n, #ARGV - 1 - 3 * n
  for i = 1, first_key do
    K[i] = KEYS[i]
  end
  for i = 1, first_arg do
    A[i] = ARGV[i]
  end
  if n > 0 then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local wait, longest, tats = 0, 0, {}
    for i = 1, n do
      local interval = tonumber(ARGV[first_arg + 3 * i - 2])
      local burst = tonumber(ARGV[first_arg + 3 * i - 1])
      local tat = math.max(tonumber(redis.call('GET', KEYS[first_key + i]) or now), now)
      local allow_at = tat + interval - burst * interval
      if allow_at - now > wait then
        wait, longest = allow_at - now, i
      end
      tats[i] = tat + interval
    end
    if wait > 0 then
      limited = {'limited', tostring(wait), longest}
    else
      for i = 1, n do
        if ARGV[first_arg + 3 * i] == 'count' then
          redis.call('SET', KEYS[first_key + i], tats[i], 'PX', tats[i] - now)
        end
      end
    end
  end
end
if limited then
  return limited
end
