-- GCRA (generic cell rate algorithm) over one or more limits, all-or-nothing: a request is admitted only if
-- every limit admits it, and only then is it counted against each. Time is Redis's own clock, so any number of
-- service instances on any hosts share one view.
-- KEYS[i] = limit state key; ARGV[2i-1] = emission interval (ms), ARGV[2i] = burst (requests); an extra last
-- ARGV 'peek' only asks: the same answer, but nothing is counted.
-- Returns 0 when admitted, else the milliseconds until the request would be admitted.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then
    tat = now
  end
  local new_tat = tat + interval
  local allow_at = new_tat - burst * interval
  if allow_at > now and allow_at - now > wait then
    wait = allow_at - now
  end
  tats[i] = new_tat
end
if wait > 0 or ARGV[2 * #KEYS + 1] == 'peek' then
  return wait
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', tats[i] - now)
end
return 0
