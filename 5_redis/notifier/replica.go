package main

import (
	"context"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/notifyapi"
)

// A Replica is one notifier server over Redis: the shared handler, with
// the resources in Redis (Store) and this replica's own subscribers
// (Fanout). Any number of replicas may share one Redis.
type Replica struct {
	*notifyapi.Handler         // serves HTTP; its Shutdown says goodbye to the subscribers
	fanout             *Fanout // set by NewReplica: the local hub, stopped by Close
}

// NewReplica serves the resources and events in rdb, which the caller
// closes after Close. It returns once subscribed to Redis.
func NewReplica(ctx context.Context, rdb *redis.Client, opts notifyapi.Options) (*Replica, error) {
	f, err := newFanout(ctx, rdb)
	if err != nil {
		return nil, err
	}
	return &Replica{Handler: notifyapi.NewStoreHandler(f, NewStore(rdb), opts), fanout: f}, nil
}

// Close shuts down, and stops the replica's goroutines.
func (r *Replica) Close() { r.fanout.Close() }
