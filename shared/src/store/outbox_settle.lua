-- Settles an attempt to deliver event A[3] of queue K[1] (consumer group A[1], this gateway A[2]). Delivered
-- (A[4] = ''): acknowledged and deleted. Failed: A[4] = the idle time (ms) to give it, which makes it due again
-- (outbox_take.lua) once its pause is over; its attempts are counted already. Returns 1.
if A[4] == '' then
  redis.call('XACK', K[1], A[1], A[3])
  redis.call('XDEL', K[1], A[3])
else
  redis.call('XCLAIM', K[1], A[1], A[2], 0, A[3], 'IDLE', A[4], 'JUSTID')
end
return 1
