package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/counterapi"
)

// incScript is SAFE: the read, the two checks and the write are one Lua
// script, and Redis runs a script whole, with no other command in between,
// whichever replica sent it. It is the mutex's critical section, moved to
// where the state is. Values are compared as strings: Lua's numbers are
// doubles and cannot hold every int64.
var incScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v == '9223372036854775807' then return 2 end
redis.call('INCR', KEYS[1])
return 1
`)

// What incScript returns.
const (
	incNotFound = 0
	incDone     = 1
	incOverflow = 2
)

func (s *Store) incScript(ctx context.Context, key string) error {
	got, err := incScript.Run(ctx, s.rdb, []string{key}).Int()
	if err != nil {
		return err
	}
	switch got {
	case incDone:
		return nil
	case incNotFound:
		return counterapi.ErrNotFound
	case incOverflow:
		return counterapi.ErrOverflow
	}
	return fmt.Errorf("increment script returned %d", got)
}
