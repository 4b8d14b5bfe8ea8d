-- Forgets the consumers of queue K[1]'s group A[1] that hold nothing and have not read for A[3] ms (gateways
-- that stopped or died and were replaced), except this gateway, A[2]: every restart joins under a new name.
-- Returns how many were forgotten.
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', K[1], A[1])
if not ok then
  return 0
end
local forgotten = 0
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do
    info[c[i]] = c[i + 1]
  end
  if info.name ~= A[2] and info.pending == 0 and info.idle >= tonumber(A[3]) then
    redis.call('XGROUP', 'DELCONSUMER', K[1], A[1], info.name)
    forgotten = forgotten + 1
  end
end
return forgotten
