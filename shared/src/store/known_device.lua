-- Did this browser log in as this user recently? K[1] = the user's device history; A[1] = device hash;
-- A[2] = the oldest last login that still counts (unix seconds). Returns 1 or 0.
if knows_device(K[1], A[1], A[2]) then
  return 1
end
return 0
