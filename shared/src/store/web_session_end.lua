-- Ends web session A[1] of user A[3] (K[1] = the user's web sessions), or all of them when A[1] is ''. A[2] =
-- now. On a single Redis K[2] = the back-channel logout queue, where each ended session's logout is queued.
-- Returns the sids of the live sessions that ended (an ended or unknown sid: none).
local now, user, logouts = tonumber(A[2]), A[3], K[2]
local ended = {}
local function live(record)
  return record and cjson.decode(record).e > now
end
local function finish(sid)
  ended[#ended + 1] = sid
  logged_out(logouts, user, sid)
end
if A[1] == '' then
  local all = redis.call('HGETALL', K[1])
  for i = 1, #all, 2 do
    if live(all[i + 1]) then
      finish(all[i])
    end
  end
  redis.call('DEL', K[1])
  return ended
end
if live(redis.call('HGET', K[1], A[1])) then
  finish(A[1])
end
redis.call('HDEL', K[1], A[1])
return ended
