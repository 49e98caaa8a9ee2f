//go:build lab

package main

import "concurrencylab/internal/redislab"

// The lab's own tests run the suites on a real redis-server too (skipped
// where none is installed, and failing so in CI).
func init() { redisKinds = append(redisKinds, redislab.Real) }
