-- Did this browser log in as this user recently? KEYS[1] = the user's device history; ARGV[1] = device hash;
-- ARGV[2] = the oldest last login that still counts (unix seconds). Returns 1 or 0.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) >= tonumber(ARGV[2]) then
  return 1
end
return 0
