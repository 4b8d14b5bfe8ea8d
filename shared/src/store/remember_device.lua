-- A browser logged in as this user. K[1] = the user's device history; A[1] = device hash; A[2] = now;
-- A[3] = memory, seconds; A[4] = cap. Returns the number of devices remembered.
return remember_device(K[1], A[1], A[2], A[3], A[4])
