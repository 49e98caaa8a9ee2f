package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/counterapi"
)

// A model answer of docs/exercises/replicas.md, in place of
// 5_redis/counter/inc_getset.go: the pessimistic fix.
//
// getSetScript is incGetSet's GET, its two checks and its SET as one Lua
// script. Redis runs a script whole, with no other command in between,
// whichever replica sent it, so no two increments can read the same value:
// the script is the critical section, where the state is. The value stays
// a string: Lua's numbers are doubles and cannot hold every int64, so the
// script compares it with the largest int64 as a string, and lets INCR do
// the arithmetic.
var getSetScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v == '9223372036854775807' then return 2 end
redis.call('INCR', KEYS[1])
return 1
`)

func (s *Store) incGetSet(ctx context.Context, key string) error {
	got, err := getSetScript.Run(ctx, s.rdb, []string{key}).Int()
	if err != nil {
		return err
	}
	switch got {
	case 0:
		return counterapi.ErrNotFound
	case 1:
		return nil
	case 2:
		return counterapi.ErrOverflow
	}
	return fmt.Errorf("increment script returned %d", got)
}
