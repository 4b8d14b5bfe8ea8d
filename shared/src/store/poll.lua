-- The browser's poll. KEYS[1] = session key; ARGV[1] = binding hash.
-- Returns {state}, {'confirmed', user id} (the gateway then issues the token and calls claim.lua), or
-- {'claimed', stored answer} while the claim's grace window lasts. Reading never changes state.
local s = redis.call('HMGET', KEYS[1], 'st', 'bind', 'uid', 'resp')
if not s[1] then
  return {'expired'}
end
if s[2] ~= ARGV[1] then
  return {'forbidden'}
end
if s[1] == 'confirmed' then
  return {'confirmed', s[3]}
end
if s[1] == 'claimed' then
  return {'claimed', s[4]}
end
return {s[1]}
