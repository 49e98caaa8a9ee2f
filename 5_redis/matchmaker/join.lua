-- join: dequeue-or-enqueue, in one step. Redis runs a script alone, so no
-- two clients, on any replicas, can take the same peer, and none can miss one.
-- KEYS: the queue, the counts. ARGV: the caller's token and id; the key prefix
-- (for the peer's keys); the lease and a match's lifetime, in ms (hardening.go).
-- Returns the caller's match, "pair-number peer-id"; or false: queued.
local queue, counts = KEYS[1], KEYS[2]
local token, id, prefix, lease, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

-- send pushes a match into a client's mailbox, where its Join reads it.
local function send(to, match)
  redis.call('RPUSH', prefix .. 'match:' .. to, match)
  redis.call('PEXPIRE', prefix .. 'match:' .. to, keep)
end

redis.call('HINCRBY', counts, 'requests', 1)
while true do
  local peer = redis.call('LPOP', queue)
  if not peer then
    redis.call('RPUSH', queue, token)
    redis.call('SET', prefix .. 'waiter:' .. token, id, 'PX', lease)
    return false
  end
  local peerID = redis.call('GET', prefix .. 'waiter:' .. peer)
  if peerID then
    redis.call('DEL', prefix .. 'waiter:' .. peer)
    local n = redis.call('HINCRBY', counts, 'paired', 1)
    send(peer, n .. ' ' .. id)
    send(token, n .. ' ' .. peerID) -- a copy, if this reply is lost (hardening.go)
    return n .. ' ' .. peerID
  end
  -- The peer's lease ran out (its replica died): counted, never handed out.
  redis.call('HINCRBY', counts, 'timed_out', 1)
end
