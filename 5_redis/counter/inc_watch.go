package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/counterapi"
)

// maxBackoff bounds the pause before an optimistic increment runs again.
// The pause is random, so that the clients that lost one round do not all
// collide again in the next.
const maxBackoff = 2 * time.Millisecond

// incWatch is SAFE, and optimistic: WATCH the key, GET it, and SET value+1
// in a MULTI/EXEC transaction, which Redis runs only if no one changed the
// key since the WATCH. If someone did, EXEC does nothing and the increment
// runs again from the GET. No update is lost, and none waits on a lock;
// the price is the retries under contention, which s counts (see
// /debug/vars). The read-check-write is the same as incGetSet's: the only
// change is that the write is conditional.
func (s *Store) incWatch(ctx context.Context, key string) error {
	for {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			val, err := tx.Get(ctx, key).Int64()
			if errors.Is(err, redis.Nil) {
				return counterapi.ErrNotFound
			}
			if err != nil {
				return err
			}
			next, err := counterapi.Increment(val)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, next, 0)
				return nil
			})
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			if err == nil {
				s.increments.Add(1)
			}
			return err
		}
		s.retries.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rand.N(maxBackoff)):
		}
	}
}
