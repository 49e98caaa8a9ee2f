//go:build lab

package main

import "concurrencylab/internal/cluster"

// The lab's own tests run the replicas behind haproxy too (skipped where
// none is installed, and failing so in CI).
func init() { lbKinds = append(lbKinds, cluster.HAProxy) }
