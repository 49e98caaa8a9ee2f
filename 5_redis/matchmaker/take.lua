-- take: a waiter woken up takes its match, if a peer has left it one.
--
-- KEYS[1]  the waiter's match key
-- KEYS[2]  the queue
-- ARGV[1]  the waiter's entry
--
-- Returns {"taken", match} (as leave does); {"waiting"}, still queued (a
-- wake-up after the dispatcher subscribed again, with no peer yet); or
-- {"lost"}, neither.
local match = redis.call('GET', KEYS[1])
if match then
  redis.call('DEL', KEYS[1])
  return {'taken', match}
end
if redis.call('LPOS', KEYS[2], ARGV[1]) then
  return {'waiting'}
end
return {'lost'}
