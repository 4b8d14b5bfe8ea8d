-- A claimed login's web session, on a Redis Cluster (on a single Redis the claim adds it). K[1] = the user's web
-- sessions; A[1] = sid; A[2] = its record (JSON: browser, OS, location); A[3] = now; A[4] = its lifetime,
-- seconds; A[5] = cap. Returns 1.
add_web_session(K[1], A[1], A[2], A[3], A[4], A[5])
return 1
