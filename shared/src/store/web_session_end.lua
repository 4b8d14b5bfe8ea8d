-- Ends web session A[1] of the user (K[1] = the user's web sessions), or all of them when A[1] is ''. Returns
-- how many live sessions ended (an ended or unknown sid: 0). A[2] = now.
local now = tonumber(A[2])
local ended = 0
local function live(record)
  return record and cjson.decode(record).e > now
end
if A[1] == '' then
  local all = redis.call('HGETALL', K[1])
  for i = 2, #all, 2 do
    if live(all[i]) then
      ended = ended + 1
    end
  end
  redis.call('DEL', K[1])
  return ended
end
if live(redis.call('HGET', K[1], A[1])) then
  ended = 1
end
redis.call('HDEL', K[1], A[1])
return ended
