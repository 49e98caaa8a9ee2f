//go:build !lab

package labtest

import "concurrencylab/internal/redislab"

// redisKinds, for the learner's go test: the embedded Redis only.
var redisKinds = []string{redislab.Embedded}
