-- Each user's web sessions (the browsers a claimed login logged in), under the user's own hash tag: a hash of
-- sid -> JSON {b: browser, o: OS, l: location object or false, c: created, s: last seen, e: expiry (unix
-- seconds)}. Prepended to the steps that read or write it: on their own (web_session_*.lua), or, on a single
-- Redis, inside the won claim that creates one (claim.lua).

-- Queues the back-channel logout of `user`'s web session `sid` (outbox.lua) on `logouts` (nil on a cluster).
local function logged_out(logouts, user, sid)
  enqueue(logouts, 'user', user, 'sid', sid)
end

-- Adds `user`'s session `sid` (its record without times as JSON), created `now` and ending `ttl` seconds later,
-- and queues its login webhook on `outbox.logins` (with the scan's `risk`). Drops the user's ended sessions and,
-- past `cap`, the oldest, whose logouts it queues on `outbox.logouts`; keeps the hash as long as its last session.
-- Returns the sids it ended so (for a cluster's caller to queue).
local function add_web_session(key, user, sid, record, now, ttl, cap, risk, outbox)
  now, ttl = tonumber(now), tonumber(ttl)
  local r = cjson.decode(record)
  r.c, r.s, r.e = now, now, now + ttl
  redis.call('HSET', key, sid, cjson.encode(r))
  local all = redis.call('HGETALL', key)
  local live, latest = {}, now + ttl
  for i = 1, #all, 2 do
    local s = cjson.decode(all[i + 1])
    if s.e <= now then
      redis.call('HDEL', key, all[i])
    else
      live[#live + 1] = {all[i], s.c}
      latest = math.max(latest, s.e)
    end
  end
  table.sort(live, function(a, b) return a[2] > b[2] end)
  local evicted = {}
  for i = tonumber(cap) + 1, #live do
    redis.call('HDEL', key, live[i][1])
    logged_out(outbox.logouts, user, live[i][1])
    evicted[#evicted + 1] = live[i][1]
  end
  redis.call('EXPIREAT', key, latest)
  enqueue(outbox.logins, 'user', user, 'sid', sid, 'shown', record, 'risk', risk, 'at', now)
  return evicted
end
