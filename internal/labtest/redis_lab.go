//go:build lab

package labtest

import "concurrencylab/internal/redislab"

// redisKinds, for the lab's own tests: the embedded Redis, and a real
// redis-server (skipped where none is installed, failing in CI).
var redisKinds = []string{redislab.Embedded, redislab.Real}
