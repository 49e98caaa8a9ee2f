package main

import (
	"errors"
	"fmt"
	"sync"
)

// byteCache is the seed's ByteCache: byte values by key, no more than
// maxSize bytes in all. Its invariant: currSize is the sum of the lengths
// of the values in cache.
type byteCache struct {
	maxSize int // set once by newByteCache, then only read

	mu       sync.Mutex        // guards cache and currSize, and so the invariant
	cache    map[string][]byte // the values by key, read and written only with mu held
	currSize int               // bytes stored, as counted; read and written only with mu held
}

// newByteCache returns an empty cache that holds at most maxSize bytes.
func newByteCache(maxSize int) *byteCache {
	return &byteCache{maxSize: maxSize, cache: make(map[string][]byte)}
}

var (
	errKeyExists = errors.New("key exists")
	errCacheFull = errors.New("cache full")
)

// put stores data under key. It refuses to overwrite a key (errKeyExists)
// or to grow past maxSize (errCacheFull).
//
// BROKEN ON PURPOSE, as in the seed: the unlock is deferred, so a panic frees
// the mutex, but currSize is counted before the data is stored, and for the
// key "burn" a panic comes in between. Whoever recovers it (net/http here)
// finds a free mutex and a broken invariant: currSize counts bytes that
// were never stored.
func (c *byteCache) put(key string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	// Don't allow overwrites to keep example short.
	if _, ok := c.cache[key]; ok {
		return errKeyExists
	}
	// Don't allow our cache to exceed the specified maxSize.
	if c.currSize+len(data) > c.maxSize {
		return fmt.Errorf("%w: %d of %d bytes used, no room for %d more",
			errCacheFull, c.currSize, c.maxSize, len(data))
	}

	c.currSize += len(data)
	if key == "burn" {
		panic("some programmers just want to watch the world burn")
	}
	c.cache[key] = data
	return nil
}

// get returns the value stored under key, if any. Callers must not modify it.
func (c *byteCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.cache[key]
	return data, ok
}

// cacheStats is the answer to GET /stats. While the invariant holds,
// CurrSize equals ActualSize.
type cacheStats struct {
	MaxSize    int `json:"max_size"`
	CurrSize   int `json:"curr_size"`   // bytes stored, as counted
	ActualSize int `json:"actual_size"` // bytes stored, as summed now
}

// stats counts the bytes actually stored and reports them next to the
// count that put keeps, in one critical section.
func (c *byteCache) stats() cacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	actual := 0
	for _, data := range c.cache {
		actual += len(data)
	}
	return cacheStats{MaxSize: c.maxSize, CurrSize: c.currSize, ActualSize: actual}
}
