-- leave: a waiter whose wait ended takes itself out of the queue, or finds
-- that a peer took it first and takes the match instead: one outcome.
--
-- KEYS[1]  the queue
-- KEYS[2]  the counts
-- KEYS[3]  the waiter's match key
-- ARGV[1]  the waiter's entry
-- ARGV[2]  the count it left as: timed_out or canceled
--
-- Returns {"left"}, counted; {"taken", match}, where match is
-- "pair-number peer-id", or "" if a join swept it out when its lease ran
-- out (counted there); or {"lost"}: neither queued nor taken, as when Redis
-- restarted empty.
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  return {'left'}
end
local match = redis.call('GET', KEYS[3])
if not match then
  return {'lost'}
end
redis.call('DEL', KEYS[3])
return {'taken', match}
