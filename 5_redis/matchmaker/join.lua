-- join: dequeue-or-enqueue, for each of a batch of clients in turn, in one
-- step. Redis runs a script alone, with no other command between its
-- lines, so no two clients, on any replicas, can take the same peer, and
-- none can miss one.
--
-- KEYS[1]  the queue: a list of entries "expires token id", first come first
-- KEYS[2]  the counts: a hash of requests, paired, timed_out, canceled
-- ARGV[1]  the key prefix, for a peer's match key and its replica's channel
--          (built here, as the peer is not known before: one Redis, not a
--          Redis Cluster)
-- ARGV[2]  now, in Unix milliseconds
-- ARGV[3]  how long, in milliseconds, a match outlives its waiter's lease
-- ARGV[4], ARGV[5]  the first client's entry, queued as it is if nobody
--          waits, and its id, for its peer's match; then the next client's...
--
-- Returns, for each client in order, {"paired", pair number, peer id} or
-- {"queued"}. A client queued by this batch and taken by a later client of
-- it is "paired" here too: it needs no match key and no wake-up.
local queue, counts = KEYS[1], KEYS[2]
local prefix, now, grace = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local results = {}
local ours = {} -- token -> index in results, of the clients this batch queued
for i = 1, (#ARGV - 3) / 2 do
  local entry, id = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  redis.call('HINCRBY', counts, 'requests', 1)
  while true do
    local head = redis.call('LPOP', queue)
    if not head then
      redis.call('RPUSH', queue, entry)
      results[i] = {'queued'}
      ours[string.match(entry, '^%d+ (%S+) ')] = i
      break
    end
    local expires, token, peer = string.match(head, '^(%d+) (%S+) (.*)$')
    expires = tonumber(expires)
    local matchKey = prefix .. 'match:' .. token
    if expires < now then
      -- A waiter whose lease ran out and who never left: its replica
      -- died, or lost Redis as it left. Count it, and leave it a
      -- tombstone (an empty match) in case it is still there to look.
      redis.call('HINCRBY', counts, 'timed_out', 1)
      redis.call('SET', matchKey, '', 'PX', grace)
    else
      local n = redis.call('HINCRBY', counts, 'paired', 1)
      local mine = ours[token]
      if mine then
        results[mine] = {'paired', n, id}
      else
        local replica = string.match(token, '^([^:]+):')
        redis.call('SET', matchKey, string.format('%d', n) .. ' ' .. id, 'PX', expires - now + grace)
        redis.call('PUBLISH', prefix .. 'wake:' .. replica, token)
      end
      results[i] = {'paired', n, peer}
      break
    end
  end
end
return results
