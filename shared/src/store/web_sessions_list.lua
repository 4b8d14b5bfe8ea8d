-- The user's live web sessions. K[1] = the user's web sessions; A[1] = now. Returns {sid, record, ...}.
local all = redis.call('HGETALL', K[1])
local out = {}
for i = 1, #all, 2 do
  if cjson.decode(all[i + 1]).e > tonumber(A[1]) then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
