-- The gateways' delivery queues (outbox.rs): one Redis Stream per kind of event (back-channel logouts, login
-- webhooks), read by the consumer group of the gateways that deliver it. A gateway configured to deliver a kind
-- keeps its stream in being, so an event is queued only while some gateway will deliver it: without one, none
-- piles up. Prepended to the steps that queue events.

-- Bounds a queue no gateway drains any more (its delivery switched off): the oldest events go first.
local OUTBOX_CAP = 100000

-- Queues an event (field/value pairs) on `stream`, if a gateway delivers it. `stream` is nil on a Redis Cluster,
-- where the queue lives in another slot than the step's keys: the caller queues it in a step of its own.
local function enqueue(stream, ...)
  if stream and redis.call('EXISTS', stream) == 1 then
    redis.call('XADD', stream, 'MAXLEN', '~', OUTBOX_CAP, '*', ...)
  end
end
