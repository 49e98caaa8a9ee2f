package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/counterapi"
)

// A model answer of docs/exercises/replicas.md, in place of
// 5_redis/counter/inc_getset.go: the optimistic fix.
//
// incGetSet keeps its GET, +1 in Go and SET, and makes the SET
// conditional: WATCH the key, GET it, and SET value+1 inside MULTI/EXEC,
// which Redis runs only if no client changed the key since the WATCH. If
// one did, EXEC writes nothing and returns redis.TxFailedErr, and the
// increment starts again from the GET, after a random pause so that the
// clients that lost this round do not all collide again in the next.

// getSetBackoff bounds that pause.
const getSetBackoff = 2 * time.Millisecond

func (s *Store) incGetSet(ctx context.Context, key string) error {
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
			return err // nil: committed; or ErrNotFound, ErrOverflow, a Redis error
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rand.N(getSetBackoff)):
		}
	}
}
