-- A claimed login's web session, on a Redis Cluster (on a single Redis the claim adds it). K[1] = the user's web
-- sessions; A[1] = sid; A[2] = its record (JSON: browser, OS, location); A[3] = now; A[4] = its lifetime,
-- seconds; A[5] = cap; A[6] = the user. Returns the sids the cap ended: the caller queues their logouts and this
-- login's webhook, whose queues are in another slot.
return add_web_session(K[1], A[6], A[1], A[2], A[3], A[4], A[5], '', {})
