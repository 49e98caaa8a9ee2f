package main

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/counterapi"
)

// incGetSet is BROKEN ON PURPOSE: the first attempt at sharing the counter.
// GET and SET are each atomic, but the increment between them happens in
// this process, so two requests (on one replica, or on two) that GET the
// same value both SET value+1, and one increment is lost. go test -race
// reports nothing: no memory is shared, and the race is in Redis, between
// processes. See it lose updates with:
//
//	go test -race -run ConcurrentIncrements -v ./5_redis/counter
//
// The fixes: incScript (one atomic step in Redis) and incWatch (optimistic:
// retry if the value changed).
func (s *Store) incGetSet(ctx context.Context, key string) error {
	val, err := s.rdb.Get(ctx, key).Int64()
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
	return s.rdb.Set(ctx, key, next, 0).Err()
}
