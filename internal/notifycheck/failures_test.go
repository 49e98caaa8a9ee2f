//go:build lab

package notifycheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSubject(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range Subject.Scenarios {
		assert.False(t, names[sc.Name], "%s twice", sc.Name)
		names[sc.Name] = true
	}
	for _, c := range Subject.Battery.Cases {
		assert.True(t, c.Status >= 400 && c.Status < 500, "%s: %d is not a 4xx", c, c.Status)
	}
}
