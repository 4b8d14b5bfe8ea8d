-- A gateway's next deliveries from queue K[1] (a stream; its consumer group A[1] is created, with the stream, if
-- missing: the queue exists while a gateway delivers it). A[2] = this gateway's consumer name, A[3] = how many
-- at most, A[4] = the pause before a retry (ms) after the first failed attempt, doubling with each failure up to
-- A[5]; A[6] = how long an attempt may be in flight (ms) before another gateway takes the event over.
-- First events that are due again: failed ones whose pause is over (settle marks a failure by setting the
-- event's idle time so) and ones whose attempt was cut off (a gateway that died mid-delivery); then new events.
-- Each event comes back as {id, attempts before this one, {field, value, ...}}.
local group, me, count = A[1], A[2], tonumber(A[3])
local base, cap, in_flight = tonumber(A[4]), tonumber(A[5]), tonumber(A[6])
-- Asked first rather than tried: a refused XGROUP CREATE on every look would fill Redis's error statistics.
if redis.call('EXISTS', K[1]) == 0 then
  redis.call('XGROUP', 'CREATE', K[1], group, '0', 'MKSTREAM')
end
-- Only events idle past the first pause can be due: XPENDING's IDLE filter leaves the rest in Redis. The window
-- is wider than the batch, so a few events failing for long do not hide the others' retries.
local pending = redis.pcall('XPENDING', K[1], group, 'IDLE', base, '-', '+', count * 10)
if pending.err then
  -- The stream outlived its group (destroyed by hand): make it again, from the stream's first event.
  redis.call('XGROUP', 'CREATE', K[1], group, '0')
  pending = {}
end
local taken = {}
for _, p in ipairs(pending) do
  if #taken == count then
    break
  end
  local id, idle, attempts = p[1], p[3], p[4]
  local pause = math.min(base * 2 ^ (attempts - 1), cap)
  if idle >= math.max(in_flight, pause) then
    local claimed = redis.call('XCLAIM', K[1], group, me, 0, id)
    if claimed[1] then
      taken[#taken + 1] = {id, attempts, claimed[1][2]}
    end
  end
end
if #taken < count then
  local read = redis.call('XREADGROUP', 'GROUP', group, me, 'COUNT', count - #taken, 'STREAMS', K[1], '>')
  for _, e in ipairs(read and read[1] and read[1][2] or {}) do
    taken[#taken + 1] = {e[1], 0, e[2]}
  end
end
return taken
