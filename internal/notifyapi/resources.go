package notifyapi

import (
	"context"
	"encoding/json"
	"sync"
)

// Resources is the REST side's store: JSON documents by id, in memory. It is
// the Store of every version but the Redis one, and safe: the lesson is in
// the hubs.
//
// A change and the publishing of its event are one critical section, so
// events go out in the order of the changes: no subscriber can see a
// resource modified before it sees it created. A publish that fails
// (the hub has stopped) leaves the store unchanged.
type Resources struct {
	publish func(Event) error // called with mu held

	mu      sync.Mutex
	items   map[int64]json.RawMessage // guarded by mu
	lastID  int64                     // guarded by mu
	lastSeq int64                     // guarded by mu: the last change's seq
}

// NewResources returns an empty store that announces each change with
// publish. Publish must not wait on a subscriber, or a slow one stalls every
// change (the naive version's bug).
func NewResources(publish func(Event) error) *Resources {
	return &Resources{publish: publish, items: make(map[int64]json.RawMessage)}
}

// Create stores body as a new resource and returns its event.
func (rs *Resources) Create(_ context.Context, body json.RawMessage) (Event, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	e := Event{Event: Created, ID: rs.lastID + 1, Seq: rs.lastSeq + 1}
	if err := rs.publish(e); err != nil {
		return Event{}, err
	}
	rs.lastID, rs.lastSeq = e.ID, e.Seq
	rs.items[e.ID] = body
	return e, nil
}

// Update replaces resource id with body and returns its event; found is
// false, and nothing changes, if there is no such resource.
func (rs *Resources) Update(_ context.Context, id int64, body json.RawMessage) (e Event, found bool, err error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if _, ok := rs.items[id]; !ok {
		return Event{}, false, nil
	}
	e = Event{Event: Modified, ID: id, Seq: rs.lastSeq + 1}
	if err := rs.publish(e); err != nil {
		return Event{}, true, err
	}
	rs.lastSeq = e.Seq
	rs.items[id] = body
	return e, true, nil
}

// Get returns resource id, and whether there is one. It never fails.
func (rs *Resources) Get(_ context.Context, id int64) (json.RawMessage, bool, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	body, ok := rs.items[id]
	return body, ok, nil
}
