-- leave: a waiter whose wait ended takes itself off the queue, or finds that
-- a peer took it first and takes its match instead: one outcome.
-- KEYS: the queue, the counts, the waiter's key, its mailbox.
-- ARGV: its token; the count it leaves as (timed_out or canceled).
-- Returns "left"; or its match, kept (it expires) in case this reply is lost;
-- or false: neither (swept out by a join as its lease ran out, or lost).
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('DEL', KEYS[3])
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  return 'left'
end
return redis.call('LINDEX', KEYS[4], 0)
