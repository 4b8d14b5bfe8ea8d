-- Queues one event on a Redis Cluster, after the step that caused it (on a single Redis that step queues it).
-- K[1] = the queue's stream; A = the event's field/value pairs. Returns 1.
enqueue(K[1], unpack(A))
return 1
